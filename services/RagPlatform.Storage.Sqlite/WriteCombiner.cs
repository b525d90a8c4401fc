namespace RagPlatform.Storage.Sqlite;

/// <summary>
/// Group commit for a store that writes one batch at a time: concurrent callers enqueue their requests, a
/// single drain loop (started by whoever finds none running) takes everything queued so far and applies it as
/// one batch, then completes each caller's task. Many small transactions and lock hand-offs become a few
/// large ones, and callers that arrive while a batch runs ride together in the next.
/// <para>
/// Guarantees: a caller's request is applied in exactly one batch, and the caller's task completes only after
/// that batch has been applied (or has failed). Batches run one after another, and requests keep their arrival
/// order within and across batches, so one caller's successive requests (each awaited) apply in order. When a
/// batch of several requests fails, each of its requests is applied again alone, so a failure reaches exactly
/// the callers whose own request fails; the apply function must therefore be idempotent per request (the
/// stores' writes are upserts and conditional updates). A caller cancelled while its request is still queued
/// withdraws it; once its batch has started, the caller waits for the outcome, so nothing is written after
/// the caller has gone.
/// </para>
/// </summary>
/// <param name="apply">Applies a non-empty batch, in order, as one unit (one transaction).</param>
/// <param name="maxBatch">Most requests in one batch (bounds a batch's memory and latency).</param>
public sealed class WriteCombiner<TRequest>(Func<IReadOnlyList<TRequest>, CancellationToken, Task> apply, int maxBatch = 64)
{
    private readonly Lock _lock = new();
    private readonly Queue<Pending> _queue = new();
    private bool _running;

    /// <summary>Applies <paramref name="request"/> in the next batch and returns when that batch is done.</summary>
    public async Task WriteAsync(TRequest request, CancellationToken cancellationToken)
    {
        var pending = new Pending(request);
        bool start;
        lock (_lock)
        {
            _queue.Enqueue(pending);
            start = !_running;
            _running = true;
        }

        if (start)
        {
            // The drain runs on its own, so no caller's call is stretched by batches of later callers.
            _ = Task.Run(DrainAsync, CancellationToken.None);
        }

        using var registration = cancellationToken.Register(() => Withdraw(pending, cancellationToken));
        await pending.Completion.Task.ConfigureAwait(false);
    }

    private void Withdraw(Pending pending, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (pending.Taken)
            {
                return;
            }

            pending.Withdrawn = true;
        }

        pending.Completion.TrySetCanceled(cancellationToken);
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            var batch = new List<Pending>();
            lock (_lock)
            {
                while (batch.Count < maxBatch && _queue.TryDequeue(out var next))
                {
                    if (!next.Withdrawn)
                    {
                        next.Taken = true;
                        batch.Add(next);
                    }
                }

                if (batch.Count == 0)
                {
                    _running = false;
                    return;
                }
            }

            await ApplyAsync(batch).ConfigureAwait(false);
        }
    }

    private async Task ApplyAsync(List<Pending> batch)
    {
        try
        {
            // Not the callers' tokens: a batch started is finished, whoever stops waiting for it.
            await apply(batch.Select(p => p.Request).ToList(), CancellationToken.None).ConfigureAwait(false);
            batch.ForEach(p => p.Completion.TrySetResult());
            return;
        }
        catch (Exception ex) when (batch.Count == 1)
        {
            batch[0].Completion.TrySetException(ex);
            return;
        }
        catch (Exception)
        {
            // Someone's request broke the batch: find out whose, one by one.
        }

        foreach (var pending in batch)
        {
            try
            {
                await apply([pending.Request], CancellationToken.None).ConfigureAwait(false);
                pending.Completion.TrySetResult();
            }
            catch (Exception ex)
            {
                pending.Completion.TrySetException(ex);
            }
        }
    }

    private sealed class Pending(TRequest request)
    {
        public TRequest Request { get; } = request;

        /// <summary>Completed asynchronously, so a caller's continuation never runs inside the drain loop.</summary>
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>In a batch (guarded by the combiner's lock): the caller can no longer withdraw it.</summary>
        public bool Taken { get; set; }

        public bool Withdrawn { get; set; }
    }
}
