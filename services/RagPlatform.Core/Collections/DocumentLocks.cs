namespace RagPlatform.Core.Collections;

/// <summary>
/// The embedded <see cref="IDocumentLocks"/>: serialises work on the same document within a process (the worker bringing it to a revision, a
/// delete), so two revisions never interleave their diff-and-write. One lock per document actually held, made on
/// first use and dropped with its last holder or waiter: memory stays bounded by the documents in flight, and two
/// messages wait for each other only when they share a document. (Hash stripes made unrelated batches collide:
/// eight messages of ~50 documents over 1,024 stripes share one almost always, which serialised the worker.)
/// Several documents are locked in one order (ordinal by id) so two batches cannot deadlock.
/// </summary>
public sealed class DocumentLocks : IDocumentLocks
{
    private readonly Lock _table = new();
    private readonly Dictionary<(string Collection, string DocumentId), Entry> _entries = [];

    public async Task<IAsyncDisposable> AcquireAsync(string collection, IEnumerable<string> documentIds, CancellationToken cancellationToken)
    {
        var ids = documentIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var entries = new List<(string Collection, string DocumentId)>(ids.Length);
        var taken = 0;
        try
        {
            foreach (var id in ids)
            {
                var key = (collection, id);
                var entry = Reference(key);
                entries.Add(key);
                await entry.Gate.WaitAsync(cancellationToken);
                taken++;
            }
        }
        catch
        {
            Release(entries, taken);
            throw;
        }

        return new Releaser(this, entries);
    }

    /// <summary>Documents with a lock entry now (held or awaited); for tests.</summary>
    internal int EntryCount
    {
        get
        {
            lock (_table)
            {
                return _entries.Count;
            }
        }
    }

    private Entry Reference((string, string) key)
    {
        lock (_table)
        {
            if (!_entries.TryGetValue(key, out var entry))
            {
                entry = new Entry();
                _entries.Add(key, entry);
            }

            entry.References++;
            return entry;
        }
    }

    /// <summary>Releases the first <paramref name="taken"/> locks and drops the references to all of <paramref name="keys"/>.</summary>
    private void Release(List<(string Collection, string DocumentId)> keys, int taken)
    {
        lock (_table)
        {
            for (var i = keys.Count - 1; i >= 0; i--)
            {
                var entry = _entries[keys[i]];
                if (i < taken)
                {
                    entry.Gate.Release();
                }

                if (--entry.References == 0)
                {
                    _entries.Remove(keys[i]);
                    entry.Gate.Dispose();
                }
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Holders and waiters; guarded by the table lock.</summary>
        public int References { get; set; }
    }

    private sealed class Releaser(DocumentLocks owner, List<(string Collection, string DocumentId)> keys) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(keys, keys.Count);
            }

            return ValueTask.CompletedTask;
        }
    }
}
