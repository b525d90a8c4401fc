using RagPlatform.Contracts.Http;
using RagPlatform.Core.Storage;

namespace RagPlatform.Core.Caching;

/// <summary>
/// The document-metadata cache: every search and every embedded message first reads its collection's record
/// (settings, model fingerprint, version) from the metadata store. This keeps those records in memory and
/// drops one the moment anything writes to its collection through this store (documents submitted, embedded or
/// deleted; settings changed; the collection deleted), so a search never sees an old version and the result
/// cache (keyed by that version) stays exact. It is only correct where every write passes through this process,
/// so only the single-process host with its embedded metadata store uses it (<see cref="RagPlatform.Core.Hosting.RagTopology.CollectionRecordCache"/>).
/// </summary>
public sealed class CollectionRecordCache(IMetadataStore inner, CacheOptions options, CacheMetrics metrics, TimeProvider? time = null) : IMetadataStore, IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (CollectionRecord Record, long ExpiresTicks)> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _generations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _writesInFlight = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The store this cache fronts.</summary>
    private int _disposed;

    public IMetadataStore Inner => inner;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    /// <summary>The container disposes this, not the store inside it (once per interface it is registered as: idempotent).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        switch (inner)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    public async Task<CollectionRecord?> GetCollectionAsync(string name, CancellationToken cancellationToken)
    {
        var key = CacheKinds.DocumentMetadataPrefix + name;
        long generation;
        lock (_gate)
        {
            // No record is held while its collection is being written (BeginWrite dropped it).
            if (_records.TryGetValue(name, out var held) && held.ExpiresTicks > _time.GetUtcNow().UtcTicks)
            {
                metrics.Record(key, CacheMetrics.MemoryTier, hit: true);
                return held.Record;
            }

            generation = _generations.GetValueOrDefault(name);
        }

        metrics.Record(key, CacheMetrics.MemoryTier, hit: false);
        var record = await inner.GetCollectionAsync(name, cancellationToken);
        if (record is not null && options.MetadataSeconds > 0)
        {
            lock (_gate)
            {
                // A write that finished while this read ran moved the generation on, and one still running may
                // commit at any moment: either way what was read may be old.
                if (_generations.GetValueOrDefault(name) == generation && !_writesInFlight.ContainsKey(name))
                {
                    _records[name] = (record, _time.GetUtcNow().AddSeconds(options.MetadataSeconds).UtcTicks);
                }
            }
        }

        return record;
    }

    public Task<IReadOnlyList<CollectionRecord>> ListCollectionsAsync(CancellationToken cancellationToken) => inner.ListCollectionsAsync(cancellationToken);

    public Task<bool> TryCreateCollectionAsync(CollectionRecord collection, CancellationToken cancellationToken) =>
        Write(collection.Name, () => inner.TryCreateCollectionAsync(collection, cancellationToken));

    public Task UpdateCollectionAsync(string name, CollectionSettings settings, string? fingerprint, CancellationToken cancellationToken) =>
        Write(name, () => inner.UpdateCollectionAsync(name, settings, fingerprint, cancellationToken));

    public Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken) =>
        Write(name, () => inner.DeleteCollectionAsync(name, cancellationToken));

    public Task<CollectionCounts> GetCountsAsync(string collection, CancellationToken cancellationToken) => inner.GetCountsAsync(collection, cancellationToken);

    public Task<IReadOnlyList<DocumentTicket>> SubmitAsync(
        string collection, Guid jobId, IReadOnlyList<DocumentRequest> documents, CancellationToken cancellationToken) =>
        Write(collection, () => inner.SubmitAsync(collection, jobId, documents, cancellationToken));

    public Task<IReadOnlyDictionary<string, DocumentState>> GetDocumentStatesAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken) =>
        inner.GetDocumentStatesAsync(collection, documentIds, cancellationToken);

    public Task<IReadOnlyList<StoredChunk>> GetChunksAsync(string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken) =>
        inner.GetChunksAsync(collection, documentIds, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> FindPointsByContentHashAsync(
        string collection, IReadOnlyCollection<string> contentHashes, CancellationToken cancellationToken) =>
        inner.FindPointsByContentHashAsync(collection, contentHashes, cancellationToken);

    public Task CompleteItemsAsync(string collection, Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        Write(collection, () => inner.CompleteItemsAsync(collection, jobId, results, cancellationToken));

    public Task CommitChunksAsync(string collection, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        Write(collection, () => inner.CommitChunksAsync(collection, results, cancellationToken));

    public Task MarkChangedAsync(string collection, CancellationToken cancellationToken) =>
        Write(collection, () => inner.MarkChangedAsync(collection, cancellationToken));

    public Task<IReadOnlyList<DocumentListEntry>> ListDocumentsAsync(string collection, string? after, int limit, CancellationToken cancellationToken) =>
        inner.ListDocumentsAsync(collection, after, limit, cancellationToken);

    public Task<bool> DeleteDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        Write(collection, () => inner.DeleteDocumentAsync(collection, documentId, cancellationToken));

    public Task<JobStatus?> GetJobAsync(Guid jobId, CancellationToken cancellationToken) => inner.GetJobAsync(jobId, cancellationToken);

    // A re-index changes the collection record at each step (pending version, failure, switch, retired version).
    public Task<IReadOnlyList<string>?> BeginReindexAsync(string collection, CollectionReindex reindex, CancellationToken cancellationToken) =>
        Write(collection, () => inner.BeginReindexAsync(collection, reindex, cancellationToken));

    public Task RecordJobItemsAsync(Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken) =>
        inner.RecordJobItemsAsync(jobId, results, cancellationToken);

    public Task<bool> FailReindexAsync(string collection, Guid jobId, string error, CancellationToken cancellationToken) =>
        Write(collection, () => inner.FailReindexAsync(collection, jobId, error, cancellationToken));

    public Task<bool> SwitchVersionAsync(string collection, Guid jobId, RetiredVersion retired, CancellationToken cancellationToken) =>
        Write(collection, () => inner.SwitchVersionAsync(collection, jobId, retired, cancellationToken));

    public Task<bool> ClearRetiredAsync(string collection, int version, CancellationToken cancellationToken) =>
        Write(collection, () => inner.ClearRetiredAsync(collection, version, cancellationToken));

    /// <summary>
    /// Runs a write with its collection marked as being written: until it is over (committed or failed, either
    /// way the store may have changed) reads of that record go to the store and are not kept, because the commit
    /// becomes visible to other readers (a job reported complete) a moment before this call returns. Then the
    /// record is dropped and the generation moves on, so a read that overlapped the write does not put an old
    /// record back.
    /// </summary>
    private async Task Write(string name, Func<Task> write)
    {
        BeginWrite(name);
        try
        {
            await write();
        }
        finally
        {
            EndWrite(name);
        }
    }

    private async Task<T> Write<T>(string name, Func<Task<T>> write)
    {
        BeginWrite(name);
        try
        {
            return await write();
        }
        finally
        {
            EndWrite(name);
        }
    }

    private void BeginWrite(string name)
    {
        lock (_gate)
        {
            _records.Remove(name);
            _writesInFlight[name] = _writesInFlight.GetValueOrDefault(name) + 1;
        }
    }

    private void EndWrite(string name)
    {
        lock (_gate)
        {
            if (--_writesInFlight[name] == 0)
            {
                _writesInFlight.Remove(name);
            }

            _records.Remove(name);
            _generations[name] = _generations.GetValueOrDefault(name) + 1;
        }
    }
}
