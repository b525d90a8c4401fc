using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.ML.OnnxRuntime;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// The dynamic batcher in front of one model: every caller's tokenized texts go into one queue; a single worker
/// takes what has gathered (waiting a short window while less than a batch is there), sorts it by token length
/// and cuts it into batches whose padded size (rows × longest row) stays within the token budget, so concurrent
/// requests share model runs and padding is minimal. One batch runs at a time; its operators use the session's
/// intra-op threads. A request whose every caller has cancelled stops its running batch
/// (<see cref="RunOptions.Terminate"/>), so a cancelled search or ingestion does not hold the model.
/// </summary>
/// <typeparam name="TResult">One text's result: a vector for the embedder, a score for the reranker.</typeparam>
internal sealed class TokenBatcher<TResult> : IAsyncDisposable
{
    // One round takes at most this many budgets' worth of texts, so a request arriving behind a flood waits
    // for a bounded amount of work, not for the whole flood.
    private const int RoundBudgets = 32;

    private readonly BatchRunner _run;
    private readonly int _maxBatchTokens;
    private readonly TimeSpan _window;
    private readonly Channel<PendingText> _queue = Channel.CreateUnbounded<PendingText>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _texts;
    private long _batches;
    private long _terminated;

    public TokenBatcher(BatchRunner run, int maxBatchTokens, TimeSpan window, string threadName)
    {
        _run = run;
        _maxBatchTokens = maxBatchTokens;
        _window = window;

        // A thread of its own: a model run blocks for tens of milliseconds, which must not starve the thread pool
        // that callers' continuations (and the host's requests) run on.
        new Thread(Run) { IsBackground = true, Name = threadName }.Start();
    }

    /// <summary>Runs one batch: the texts (all of one <paramref name="variant"/>) into one result each.</summary>
    public delegate void BatchRunner(ReadOnlySpan<TokenizedText> rows, object? variant, Span<TResult> results, RunOptions runOptions);

    /// <summary>Called before each model run with (rows, padded columns); tests use it to see the batches.</summary>
    internal Action<int, int>? BatchStarting { get; set; }

    /// <summary>Called after each model run with (rows, padded columns); tests use it to see the batches.</summary>
    internal Action<int, int>? BatchRan { get; set; }

    /// <summary>Texts run, batches run and runs stopped because every caller in them had cancelled, since start.</summary>
    public long TextsRun => Interlocked.Read(ref _texts);

    public long BatchesRun => Interlocked.Read(ref _batches);

    public long BatchesTerminated => Interlocked.Read(ref _terminated);

    /// <summary>Runs every text (each non-empty, already truncated); the results come back in input order.
    /// Texts of requests with different <paramref name="variant"/>s (pooling, normalisation) never share a run.</summary>
    public Task<TResult[]> RunAsync(TokenizedText[] texts, object? variant, CancellationToken cancellationToken)
    {
        if (texts.Length == 0)
        {
            return Task.FromResult(Array.Empty<TResult>());
        }

        var request = new BatchRequest(texts.Length, variant, cancellationToken);
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
            foreach (var group in pending.GroupBy(p => p.Request.Variant))
            {
                var members = group.ToList();
                members.Sort(static (a, b) => a.Text.Length.CompareTo(b.Text.Length));
                var start = 0;
                while (start < members.Count)
                {
                    // Sorted ascending, so the last row of a batch is its longest: rows × that length is the padded size.
                    var end = start + 1;
                    while (end < members.Count && (long)(end - start + 1) * members[end].Text.Length <= _maxBatchTokens)
                    {
                        end++;
                    }

                    RunBatch(members, start, end, group.Key);
                    start = end;
                }
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

    private void RunBatch(List<PendingText> pending, int start, int end, object? variant)
    {
        // A request cancelled or failed while it waited takes no room in the run.
        var live = new List<PendingText>(end - start);
        for (var i = start; i < end; i++)
        {
            if (!pending[i].Request.IsFinished)
            {
                live.Add(pending[i]);
            }
        }

        if (live.Count == 0)
        {
            return;
        }

        var rows = live.ConvertAll(p => p.Text);
        var columns = rows.Max(r => r.Length);
        var results = new TResult[live.Count];
        using var runOptions = new RunOptions();
        var requests = live.Select(p => p.Request).Distinct().ToList();
        var registrations = new List<CancellationTokenRegistration>(requests.Count);
        try
        {
            // The run stops once nobody waits for it: every request in it cancelled (or already finished).
            // A request's own cancellation callback may not have run yet, so its token is what counts.
            foreach (var request in requests)
            {
                registrations.Add(request.Token.Register(() =>
                {
                    if (requests.TrueForAll(r => r.IsFinished || r.Token.IsCancellationRequested))
                    {
                        runOptions.Terminate = true;
                    }
                }));
            }

            BatchStarting?.Invoke(live.Count, columns);
            _run(CollectionsMarshal.AsSpan(rows), variant, results, runOptions);
            Interlocked.Add(ref _texts, live.Count);
            Interlocked.Increment(ref _batches);
            BatchRan?.Invoke(live.Count, columns);
        }
        catch (Exception ex)
        {
            if (runOptions.Terminate)
            {
                Interlocked.Increment(ref _terminated);
            }

            foreach (var item in live)
            {
                item.Request.Fail(ex);
            }

            return;
        }
        finally
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }

        for (var i = 0; i < live.Count; i++)
        {
            live[i].Request.Complete(live[i].Slot, results[i]);
        }
    }

    private readonly record struct PendingText(BatchRequest Request, int Slot, TokenizedText Text);

    /// <summary>One caller's texts: finished when every slot has its result, or on the first failure or cancellation.</summary>
    private sealed class BatchRequest
    {
        private readonly TResult[] _results;
        private readonly TaskCompletionSource<TResult[]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _registration;
        private int _remaining;

        public BatchRequest(int count, object? variant, CancellationToken cancellationToken)
        {
            _results = new TResult[count];
            _remaining = count;
            Variant = variant;
            Token = cancellationToken;
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.Register(() => _completion.TrySetCanceled(cancellationToken));
            }
        }

        public object? Variant { get; }

        public CancellationToken Token { get; }

        public Task<TResult[]> Task => _completion.Task;

        public bool IsFinished => _completion.Task.IsCompleted;

        public void Complete(int slot, TResult result)
        {
            _results[slot] = result;
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _registration.Dispose();
                _completion.TrySetResult(_results);
            }
        }

        public void Fail(Exception error)
        {
            _registration.Dispose();
            _completion.TrySetException(error);
        }
    }
}
