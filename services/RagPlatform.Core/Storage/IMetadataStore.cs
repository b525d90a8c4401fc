using RagPlatform.Contracts.Http;

namespace RagPlatform.Core.Storage;

public sealed record CollectionRecord(
    string Name,
    CollectionSettings Settings,
    string? Fingerprint,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record CollectionCounts(long Documents, long Chunks, long Pending);

/// <summary>A document of a submitted batch, reduced to what decides whether there is work.</summary>
public sealed record DocumentRequest(string DocumentId, string DocumentHash);

/// <summary>The store's answer per document: a revision to bring it to, or null when it is unchanged.</summary>
public sealed record DocumentTicket(string DocumentId, long? Revision);

/// <summary>A chunk the collection holds: one point in the vector backend.</summary>
public sealed record StoredChunk(string PointId, string DocumentId, int Ordinal, string ContentHash, string PayloadHash);

public sealed record DocumentState(string DocumentId, long RequestedRevision, long CommittedRevision, bool Deleted);

public enum JobItemOutcome
{
    Succeeded,
    Failed,
    Skipped,
    Unchanged,
}

/// <summary>What the worker did with one document of a job.</summary>
public sealed record JobItemResult(
    string DocumentId,
    long Revision,
    JobItemOutcome Outcome,
    string? Error = null,
    string? DocumentHash = null,
    IReadOnlyList<StoredChunk>? Chunks = null,
    long ChunksEmbedded = 0,
    long ChunksReused = 0,
    long ChunksUnchanged = 0,
    long ChunksDeleted = 0);

/// <summary>
/// The bookkeeping of the platform (seed 001): collections, what each document and chunk holds, and jobs.
/// The vector backend holds vectors; this store holds the truth about what they were made from.
/// </summary>
public interface IMetadataStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<CollectionRecord?> GetCollectionAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<CollectionRecord>> ListCollectionsAsync(CancellationToken cancellationToken);

    /// <summary>Creates the collection; returns false when one of that name already exists.</summary>
    Task<bool> TryCreateCollectionAsync(CollectionRecord collection, CancellationToken cancellationToken);

    Task UpdateCollectionAsync(string name, CollectionSettings settings, string? fingerprint, CancellationToken cancellationToken);

    /// <summary>Removes the collection with its documents, chunks and jobs.</summary>
    Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken);

    Task<CollectionCounts> GetCountsAsync(string collection, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically creates the job and, per document, either records it unchanged (same hash as what the
    /// collection holds or is already working towards) or assigns it the next revision.
    /// </summary>
    Task<IReadOnlyList<DocumentTicket>> SubmitAsync(
        string collection, Guid jobId, IReadOnlyList<DocumentRequest> documents, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, DocumentState>> GetDocumentStatesAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredChunk>> GetChunksAsync(
        string collection, IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken);

    /// <summary>For each content hash, one point of the collection that already holds it (to reuse its vector).</summary>
    Task<IReadOnlyDictionary<string, string>> FindPointsByContentHashAsync(
        string collection, IReadOnlyCollection<string> contentHashes, CancellationToken cancellationToken);

    /// <summary>
    /// Records a job's results in one transaction: succeeded documents get their chunk rows replaced and
    /// their committed revision set; each result is counted once per job even if a message is redelivered.
    /// </summary>
    Task CompleteItemsAsync(string collection, Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken);

    /// <summary>Marks the document deleted (its chunk rows go); returns false when it did not exist.</summary>
    Task<bool> DeleteDocumentAsync(string collection, string documentId, CancellationToken cancellationToken);

    Task<JobStatus?> GetJobAsync(Guid jobId, CancellationToken cancellationToken);
}
