using RagPlatform.Sdk;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>A checked query in the form the scan takes.</summary>
internal sealed record PreparedSearch(float[] Target, int TopK, CompiledFilter? Filter);

/// <summary>
/// Coalesces the searches on one collection that arrive while a scan is running, so that under load the
/// store is read once per batch rather than once per query (an exact scan of many queries is a matrix
/// product, bound by arithmetic instead of memory bandwidth).
/// <para>
/// No timer: a search that finds the collection idle runs at once on the caller's thread, exactly as
/// without batching. Searches arriving meanwhile queue; when the running scan ends, everything queued is
/// taken as one batch and scanned on a thread-pool thread, and whatever queues during that batch forms the
/// next. Each caller gets its own top-k under its own filter; a caller that cancels while queued leaves
/// the queue, and one that cancels while its batch runs just stops waiting (the others are not disturbed).
/// </para>
/// </summary>
internal sealed class SearchBatcher
{
    /// <summary>More than this many queued searches are split over consecutive batches (bounds the score buffers).</summary>
    internal const int MaxBatch = 256;

    private readonly EmbeddedCollection _collection;
    private readonly Lock _gate = new();
    private List<Pending> _queue = [];
    private bool _busy;
    private int _largestBatch;

    public SearchBatcher(EmbeddedCollection collection) => _collection = collection;

    /// <summary>Whether a scan is running (for tests).</summary>
    internal bool IsBusy
    {
        get
        {
            lock (_gate)
            {
                return _busy;
            }
        }
    }

    /// <summary>Searches waiting for the running scan to end (for tests).</summary>
    internal int QueuedCount
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Searches answered by the largest batch so far (for tests and diagnostics).</summary>
    internal int LargestBatch => Volatile.Read(ref _largestBatch);

    public Task<IReadOnlyList<VectorSearchHit>> SearchAsync(PreparedSearch search, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Pending? pending = null;
        lock (_gate)
        {
            if (_busy)
            {
                pending = new Pending(search);
                _queue.Add(pending);
            }
            else
            {
                _busy = true;
            }
        }

        if (pending is null)
        {
            try
            {
                return Task.FromResult(_collection.Search(search, cancellationToken));
            }
            finally
            {
                StartNextBatch();
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            pending.Registration = cancellationToken.UnsafeRegister(
                static (state, token) =>
                {
                    var (batcher, waiting) = ((SearchBatcher, Pending))state!;
                    lock (batcher._gate)
                    {
                        batcher._queue.Remove(waiting);
                    }

                    waiting.Completion.TrySetCanceled(token);
                },
                (this, pending));
        }

        return pending.Completion.Task;
    }

    /// <summary>Hands whatever queued to a thread-pool thread as the next batch, or marks the collection idle.</summary>
    private void StartNextBatch()
    {
        List<Pending> batch;
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                _busy = false;
                return;
            }

            if (_queue.Count <= MaxBatch)
            {
                batch = _queue;
                _queue = [];
            }
            else
            {
                batch = _queue.GetRange(0, MaxBatch);
                _queue.RemoveRange(0, MaxBatch);
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Batcher.Run(state.Batch), (Batcher: this, Batch: batch), preferLocal: false);
    }

    private void Run(List<Pending> batch)
    {
        try
        {
            batch.RemoveAll(static p => p.Completion.Task.IsCompleted);
            if (batch.Count == 1)
            {
                batch[0].Completion.TrySetResult(_collection.Search(batch[0].Search, CancellationToken.None));
            }
            else if (batch.Count > 1)
            {
                if (batch.Count > _largestBatch)
                {
                    Volatile.Write(ref _largestBatch, batch.Count);
                }

                var results = _collection.SearchMany(batch.ConvertAll(static p => p.Search));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
            }
        }
        catch (Exception e)
        {
            // Only collection-wide failures reach here (closed, dropped, unreadable): each query was checked before it queued.
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(e);
            }
        }
        finally
        {
            foreach (var pending in batch)
            {
                pending.Registration.Unregister();
            }

            StartNextBatch();
        }
    }

    private sealed class Pending(PreparedSearch search)
    {
        public PreparedSearch Search { get; } = search;

        // Continuations run elsewhere: the batch thread must not run 64 callers' code before the next batch.
        public TaskCompletionSource<IReadOnlyList<VectorSearchHit>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
