using System.Threading.Channels;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// The dynamic batcher in front of one model: every caller's texts go into one queue; a single worker takes
/// what has gathered (waiting a short window while less than a batch is there), sorts it by token length and
/// cuts it into batches whose padded size (rows × longest row) stays within the token budget, so concurrent
/// requests share model runs and padding is minimal. One batch runs at a time; its operators use the
/// session's intra-op threads.
/// </summary>
internal sealed class EmbeddingBatcher : IAsyncDisposable
{
    // One round takes at most this many budgets' worth of texts, so a request arriving behind a flood waits
    // for a bounded amount of work, not for the whole flood.
    private const int RoundBudgets = 32;

    private readonly EncoderModel _model;
    private readonly int _padTokenId;
    private readonly int _maxBatchTokens;
    private readonly TimeSpan _window;
    private readonly Channel<PendingText> _queue = Channel.CreateUnbounded<PendingText>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EmbeddingBatcher(EncoderModel model, int padTokenId, int maxBatchTokens, TimeSpan window)
    {
        _model = model;
        _padTokenId = padTokenId;
        _maxBatchTokens = maxBatchTokens;
        _window = window;

        // A thread of its own: a model run blocks for tens of milliseconds, which must not starve the thread pool
        // that callers' continuations (and the host's requests) run on.
        new Thread(Run) { IsBackground = true, Name = "onnx-batcher" }.Start();
    }

    /// <summary>Called after each model run with (rows, padded columns); tests use it to see the batches.</summary>
    internal Action<int, int>? BatchRan { get; set; }

    /// <summary>Texts embedded, batches run and padded tokens fed since start.</summary>
    public long TextsEmbedded => Interlocked.Read(ref _texts);

    public long BatchesRun => Interlocked.Read(ref _batches);

    private long _texts;
    private long _batches;

    /// <summary>Embeds every text (each non-empty, already truncated); the vectors come back in input order.</summary>
    public Task<float[][]> EmbedAsync(TokenizedText[] texts, PoolingMode pooling, bool normalize, CancellationToken cancellationToken)
    {
        if (texts.Length == 0)
        {
            return Task.FromResult(Array.Empty<float[]>());
        }

        var request = new BatchRequest(texts.Length, pooling, normalize, cancellationToken);
        for (var i = 0; i < texts.Length; i++)
        {
            ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(new PendingText(request, i, texts[i])), this);
        }

        return request.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopped.Task;
    }

    private void Run()
    {
        try
        {
            RunRounds();
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void RunRounds()
    {
        var pending = new List<PendingText>();
        var rows = new List<TokenizedText>();
        var roundLimit = (long)_maxBatchTokens * RoundBudgets;
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            var tokens = Drain(pending, 0, roundLimit);
            if (_window > TimeSpan.Zero && tokens < _maxBatchTokens)
            {
                // Less than one batch is here: give concurrent callers a moment to join it.
                Thread.Sleep(_window);
                Drain(pending, tokens, roundLimit);
            }

            pending.RemoveAll(p => p.Request.IsFinished);
            pending.Sort(static (a, b) => a.Text.Length.CompareTo(b.Text.Length));
            var start = 0;
            while (start < pending.Count)
            {
                // Sorted ascending, so the last row of a batch is its longest: rows × that length is the padded size.
                var end = start + 1;
                while (end < pending.Count && (long)(end - start + 1) * pending[end].Text.Length <= _maxBatchTokens)
                {
                    end++;
                }

                RunBatch(pending, start, end, rows);
                start = end;
            }

            pending.Clear();
        }
    }

    private long Drain(List<PendingText> pending, long tokens, long limit)
    {
        while (tokens < limit && _queue.Reader.TryRead(out var item))
        {
            pending.Add(item);
            tokens += item.Text.Length;
        }

        return tokens;
    }

    private void RunBatch(List<PendingText> pending, int start, int end, List<TokenizedText> rows)
    {
        // A request cancelled or failed while it waited takes no room in the run.
        rows.Clear();
        var live = new List<PendingText>(end - start);
        for (var i = start; i < end; i++)
        {
            if (!pending[i].Request.IsFinished)
            {
                live.Add(pending[i]);
                rows.Add(pending[i].Text);
            }
        }

        if (live.Count == 0)
        {
            return;
        }

        // Requests may differ in pooling/normalisation; runs are shared, pooling is per request.
        var vectors = new float[live.Count][];
        try
        {
            var first = live[0].Request;
            if (live.TrueForAll(p => p.Request.Pooling == first.Pooling && p.Request.Normalize == first.Normalize))
            {
                _model.Embed(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rows), _padTokenId, first.Pooling, first.Normalize, vectors);
            }
            else
            {
                foreach (var group in live.Select((p, i) => (p, i)).GroupBy(x => (x.p.Request.Pooling, x.p.Request.Normalize)))
                {
                    var members = group.ToArray();
                    var groupVectors = new float[members.Length][];
                    _model.Embed(members.Select(m => m.p.Text).ToArray(), _padTokenId, group.Key.Pooling, group.Key.Normalize, groupVectors);
                    for (var j = 0; j < members.Length; j++)
                    {
                        vectors[members[j].i] = groupVectors[j];
                    }
                }
            }

            var columns = rows.Max(r => r.Length);
            Interlocked.Add(ref _texts, live.Count);
            Interlocked.Increment(ref _batches);
            BatchRan?.Invoke(live.Count, columns);
        }
        catch (Exception ex)
        {
            foreach (var item in live)
            {
                item.Request.Fail(ex);
            }

            return;
        }

        for (var i = 0; i < live.Count; i++)
        {
            live[i].Request.Complete(live[i].Slot, vectors[i]);
        }
    }

    private readonly record struct PendingText(BatchRequest Request, int Slot, TokenizedText Text);

    /// <summary>One caller's texts: finished when every slot has its vector, or on the first failure or cancellation.</summary>
    private sealed class BatchRequest
    {
        private readonly float[][] _vectors;
        private readonly TaskCompletionSource<float[][]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _registration;
        private int _remaining;

        public BatchRequest(int count, PoolingMode pooling, bool normalize, CancellationToken cancellationToken)
        {
            _vectors = new float[count][];
            _remaining = count;
            Pooling = pooling;
            Normalize = normalize;
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.Register(() => _completion.TrySetCanceled(cancellationToken));
            }
        }

        public PoolingMode Pooling { get; }

        public bool Normalize { get; }

        public Task<float[][]> Task => _completion.Task;

        public bool IsFinished => _completion.Task.IsCompleted;

        public void Complete(int slot, float[] vector)
        {
            _vectors[slot] = vector;
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _registration.Dispose();
                _completion.TrySetResult(_vectors);
            }
        }

        public void Fail(Exception error)
        {
            _registration.Dispose();
            _completion.TrySetException(error);
        }
    }
}
