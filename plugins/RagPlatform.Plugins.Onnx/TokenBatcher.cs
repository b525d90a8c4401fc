using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.ML.OnnxRuntime;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// The dynamic batcher in front of one model: every caller's tokenized texts go into one queue; the batcher takes
/// what has gathered (waiting a short window while less than a batch is there), sorts it by token length and cuts
/// it into batches whose padded size (rows × longest row) stays within the token budget, so concurrent requests
/// share model runs and padding is minimal. <c>concurrentRuns</c> threads run batches at once on the one session
/// (see <see cref="OnnxThreading"/>); a round is cut into a multiple of that many batches of about equal size, so
/// a lone request (a search's 50 rerank candidates) keeps every run busy to its end. A request whose every caller
/// has cancelled stops its running batch (<see cref="RunOptions.Terminate"/>), so a cancelled search or ingestion
/// does not hold the model.
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

    // The runner that finds no batch ready cuts the next round; the others wait here meanwhile (they would have
    // nothing to run), so only one thread ever reads the queue.
    private readonly Lock _roundGate = new();
    private readonly Queue<Batch> _ready = new();
    private readonly List<PendingText> _pending = [];
    private int _runnersAlive;
    private long _texts;
    private long _batches;
    private long _terminated;

    public TokenBatcher(BatchRunner run, int maxBatchTokens, TimeSpan window, int concurrentRuns, string threadName)
    {
        _run = run;
        _maxBatchTokens = maxBatchTokens;
        _window = window;
        ConcurrentRuns = Math.Max(1, concurrentRuns);
        _runnersAlive = ConcurrentRuns;

        // Threads of their own: a model run blocks for tens of milliseconds, which must not starve the thread pool
        // that callers' continuations (and the host's requests) run on.
        for (var i = 0; i < ConcurrentRuns; i++)
        {
            new Thread(Run) { IsBackground = true, Name = ConcurrentRuns == 1 ? threadName : $"{threadName}-{i + 1}" }.Start();
        }
    }

    /// <summary>Runs one batch: the texts (all of one <paramref name="variant"/>) into one result each. Called from
    /// <see cref="ConcurrentRuns"/> threads at once.</summary>
    public delegate void BatchRunner(ReadOnlySpan<TokenizedText> rows, object? variant, Span<TResult> results, RunOptions runOptions);

    /// <summary>Batches that run at once.</summary>
    public int ConcurrentRuns { get; }

    /// <summary>Called before each model run with (rows, padded columns), from the thread that runs it; tests use it to see the batches.</summary>
    internal Action<int, int>? BatchStarting { get; set; }

    /// <summary>Called after each model run with (rows, padded columns), from the thread that ran it; tests use it to see the batches.</summary>
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

    /// <summary>
    /// Cuts rows sorted by ascending length into contiguous batches of at most <paramref name="maxBatchTokens"/>
    /// padded tokens (rows × the batch's last, longest row; a row longer than the budget runs alone). As few batches
    /// as the budget allows, rounded up to a multiple of <paramref name="concurrentRuns"/> (never more than one per
    /// row) and then made as even as a contiguous cut allows: the smallest cap that still cuts into that many.
    /// </summary>
    internal static List<(int Start, int End)> Cut(IReadOnlyList<int> sortedLengths, int maxBatchTokens, int concurrentRuns)
    {
        var cuts = CutWithin(sortedLengths, maxBatchTokens);
        var target = Math.Min(sortedLengths.Count, (cuts.Count + concurrentRuns - 1) / concurrentRuns * concurrentRuns);
        if (concurrentRuns <= 1 || cuts.Count >= target)
        {
            return cuts;
        }

        // Fewer batches never need a larger cap: the count falls as the cap grows, so halve the interval.
        long low = 1, high = maxBatchTokens;
        while (low < high)
        {
            var cap = (low + high) / 2;
            if (CutWithin(sortedLengths, cap).Count <= target)
            {
                high = cap;
            }
            else
            {
                low = cap + 1;
            }
        }

        return CutWithin(sortedLengths, low);
    }

    private static List<(int Start, int End)> CutWithin(IReadOnlyList<int> sortedLengths, long cap)
    {
        var cuts = new List<(int, int)>();
        var start = 0;
        while (start < sortedLengths.Count)
        {
            // Sorted ascending, so the last row of a batch is its longest: rows × that length is the padded size.
            var end = start + 1;
            while (end < sortedLengths.Count && (long)(end - start + 1) * sortedLengths[end] <= cap)
            {
                end++;
            }

            cuts.Add((start, end));
            start = end;
        }

        return cuts;
    }

    private void Run()
    {
        try
        {
            while (NextBatch() is { } batch)
            {
                RunBatch(batch);
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _runnersAlive) == 0)
            {
                _stopped.TrySetResult();
            }
        }
    }

    /// <summary>The next batch of the round already cut, else of a new round; null once the queue is completed and empty.</summary>
    private Batch? NextBatch()
    {
        lock (_roundGate)
        {
            while (true)
            {
                if (_ready.TryDequeue(out var batch))
                {
                    return batch;
                }

                if (!_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    return null;
                }

                CutRound();
            }
        }
    }

    private void CutRound()
    {
        var roundLimit = (long)_maxBatchTokens * RoundBudgets;
        var tokens = Drain(_pending, 0, roundLimit);
        if (_window > TimeSpan.Zero && tokens < _maxBatchTokens)
        {
            // Less than one batch is here: give concurrent callers a moment to join it.
            Thread.Sleep(_window);
            Drain(_pending, tokens, roundLimit);
        }

        _pending.RemoveAll(p => p.Request.IsFinished);
        var round = new List<Batch>();
        foreach (var group in _pending.GroupBy(p => p.Request.Variant))
        {
            var members = group.ToList();
            members.Sort(static (a, b) => a.Text.Length.CompareTo(b.Text.Length));
            foreach (var (start, end) in Cut(members.ConvertAll(m => m.Text.Length), _maxBatchTokens, ConcurrentRuns))
            {
                round.Add(new Batch(members.GetRange(start, end - start), group.Key));
            }
        }

        // Longest rows first: a round's batches are about equal in padded size, and longer rows cost a little more
        // (attention grows with the square of the length), so the shorter ones fill in at the end.
        for (var i = round.Count - 1; i >= 0; i--)
        {
            _ready.Enqueue(round[i]);
        }

        _pending.Clear();
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

    private void RunBatch(Batch batch)
    {
        // A request cancelled or failed while it waited takes no room in the run.
        var live = batch.Texts.FindAll(p => !p.Request.IsFinished);

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
            _run(CollectionsMarshal.AsSpan(rows), batch.Variant, results, runOptions);
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

    /// <summary>One model run's texts, all of one variant.</summary>
    private sealed record Batch(List<PendingText> Texts, object? Variant);

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

        /// <summary>
        /// Ends the request with the run's error, or as cancelled when its caller cancelled: a run stopped by
        /// <see cref="RunOptions.Terminate"/> throws ONNX Runtime's own exception, and may do so on the run's thread
        /// before this request's cancellation callback (run last by the cancelling thread) has marked it cancelled.
        /// </summary>
        public void Fail(Exception error)
        {
            _registration.Dispose();
            if (Token.IsCancellationRequested)
            {
                _completion.TrySetCanceled(Token);
                return;
            }

            _completion.TrySetException(error);
        }
    }
}
