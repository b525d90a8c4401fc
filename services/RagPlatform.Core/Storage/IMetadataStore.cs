using RagPlatform.Contracts.Http;

namespace RagPlatform.Core.Storage;

/// <summary>
/// A collection: a logical name whose vectors live in the backend collection of its active physical version
/// (<see cref="VectorName"/>). A re-index builds <see cref="Reindex"/>'s version beside it and switches;
/// <see cref="Retired"/> is the version switched away from, dropped after a grace period.
/// </summary>
public sealed record CollectionRecord(
    string Name,
    CollectionSettings Settings,
    string? Fingerprint,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int ActiveVersion = 1,
    CollectionReindex? Reindex = null,
    RetiredVersion? Retired = null)
{
    /// <summary>The backend collection that holds the active version's vectors.</summary>
    public string VectorName => PhysicalNames.Of(Name, ActiveVersion);
}

/// <summary>The states of a re-index: building the new version, or given up (the active version is untouched).</summary>
public static class ReindexStates
{
    public const string Running = "running";
    public const string Failed = "failed";
}

/// <summary>
/// A new physical version being built (or that failed to build): the settings and fingerprint it embeds with,
/// and the job that copies every document into it.
/// </summary>
public sealed record CollectionReindex(
    int TargetVersion,
    CollectionSettings Settings,
    string Fingerprint,
    Guid JobId,
    string State,
    string? Error,
    DateTimeOffset StartedAt)
{
    public bool IsRunning => State == ReindexStates.Running;
}

/// <summary>A version switched away from: its backend collection is dropped once <see cref="DropAfter"/> has passed.</summary>
public sealed record RetiredVersion(int Version, string VectorBackend, DateTimeOffset DropAfter);

/// <summary>Backend collection names of a collection's physical versions.</summary>
public static class PhysicalNames
{
    /// <summary>The suffix of versions after the first; collection names ending like this are refused.</summary>
    public const string VersionSeparator = "__v";
    private const int MaxLength = 63;

    /// <summary>
    /// Version 1 keeps the collection's own name (so collections made before versions existed are unchanged);
    /// later versions are <c>name__vN</c>, shortened with a hash of the name when that would exceed 63 characters.
    /// </summary>
    public static string Of(string collection, int version)
    {
        if (version <= 1)
        {
            return collection;
        }

        var suffix = VersionSeparator + version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (collection.Length + suffix.Length <= MaxLength)
        {
            return collection + suffix;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(collection)))[..8];
        return collection[..(MaxLength - suffix.Length - hash.Length - 1)] + "-" + hash + suffix;
    }
}

public sealed record CollectionCounts(long Documents, long Chunks, long Pending);

/// <summary>
/// A document of a submitted batch, reduced to what decides whether there is work. A request with a
/// <paramref name="Failure"/> (a file that could not be parsed) is recorded as a failed item of the job with that
/// reason, and its document is not touched.
/// </summary>
public sealed record DocumentRequest(string DocumentId, string DocumentHash, string? Failure = null);

/// <summary>The store's answer per document: a revision to bring it to, or null when it is unchanged.</summary>
public sealed record DocumentTicket(string DocumentId, long? Revision);

/// <summary>A chunk the collection holds: one point in the vector backend.</summary>
public sealed record StoredChunk(string PointId, string DocumentId, int Ordinal, string ContentHash, string PayloadHash);

/// <param name="Hash">The hash the document holds or is working towards (null when deleted or never committed).</param>
public sealed record DocumentState(string DocumentId, long RequestedRevision, long CommittedRevision, bool Deleted, string? Hash = null);

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
/// The bookkeeping of the platform (seed 001): collections, what each document and chunk holds, jobs and re-indexes.
/// The vector backend holds vectors; this store holds the truth about what they were made from. It is the sum of four
/// concerns, each an interface of its own so a component asks only for what it uses (the host registers each one as
/// the same store): <see cref="ICollectionStore"/>, <see cref="IDocumentStore"/>, <see cref="IJobStore"/> and
/// <see cref="IReindexStore"/>. One store class implements them all, because their changes share transactions (a
/// submission writes documents and a job; a re-index writes a job and the collection row).
/// </summary>
public interface IMetadataStore : ICollectionStore, IDocumentStore, IJobStore, IReindexStore
{
    /// <summary>Opens the store and brings its schema to this build's version (numbered migrations).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);
}

/// <summary>Collections: their settings, fingerprint and counts.</summary>
public interface ICollectionStore
{
    Task<CollectionRecord?> GetCollectionAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<CollectionRecord>> ListCollectionsAsync(CancellationToken cancellationToken);

    /// <summary>Creates the collection; returns false when one of that name already exists.</summary>
    Task<bool> TryCreateCollectionAsync(CollectionRecord collection, CancellationToken cancellationToken);

    Task UpdateCollectionAsync(string name, CollectionSettings settings, string? fingerprint, CancellationToken cancellationToken);

    /// <summary>Removes the collection with its documents, chunks and jobs.</summary>
    Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken);

    Task<CollectionCounts> GetCountsAsync(string collection, CancellationToken cancellationToken);
}

/// <summary>Documents and their chunk rows: submissions, what the embedding worker reads and records, deletes.</summary>
public interface IDocumentStore
{
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

    /// <summary>
    /// The first half of a change that removes chunks: replaces the succeeded documents' chunk rows, commits their revisions
    /// and moves the collection's version on, as <see cref="CompleteItemsAsync"/> does, but records no job items and touches
    /// no failed document, so the job is not done yet. The rows let go of the vanished points before those are deleted;
    /// <see cref="CompleteItemsAsync"/> with the same results follows once they are gone, which finishes the job and moves
    /// the version on again, so neither the job's state nor a search result cached in between shows a chunk that is going.
    /// </summary>
    Task CommitChunksAsync(string collection, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the collection's live documents (held or being worked towards, not deleted), in ordinal id order after
    /// <paramref name="after"/>; <see cref="DocumentListEntry.Indexed"/> when a revision of it is committed.
    /// </summary>
    Task<IReadOnlyList<DocumentListEntry>> ListDocumentsAsync(string collection, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Marks the document deleted (its chunk rows go); returns false when it did not exist.</summary>
    Task<bool> DeleteDocumentAsync(string collection, string documentId, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the collection's version on after its points changed outside a store write (a deleted document's points go
    /// after its rows): the result cache is keyed by the version, so a search cached in between is not served again.
    /// </summary>
    Task MarkChangedAsync(string collection, CancellationToken cancellationToken);
}

/// <summary>Jobs: their status (state by <see cref="JobStatusRules"/>) and items recorded without touching documents.</summary>
public interface IJobStore
{
    Task<JobStatus?> GetJobAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>Records a re-index's outcome per document (job items only: documents and chunk rows are not touched).</summary>
    Task RecordJobItemsAsync(Guid jobId, IReadOnlyList<JobItemResult> results, CancellationToken cancellationToken);
}

/// <summary>Re-indexes (blue/green versions of a collection): begin, fail, switch, forget the retired version.</summary>
public interface IReindexStore
{
    /// <summary>
    /// Starts a re-index in one transaction: creates its job over every live document of the collection and
    /// records <paramref name="reindex"/> as pending. Returns the documents to copy, or null when a re-index is
    /// already running (or the collection is gone). A failed re-index is replaced.
    /// </summary>
    Task<IReadOnlyList<string>?> BeginReindexAsync(string collection, CollectionReindex reindex, CancellationToken cancellationToken);

    /// <summary>Marks the running re-index of <paramref name="jobId"/> failed; false when it is not the running one.</summary>
    Task<bool> FailReindexAsync(string collection, Guid jobId, string error, CancellationToken cancellationToken);

    /// <summary>
    /// The switch, in one transaction: when the running re-index is <paramref name="jobId"/>'s, its version becomes
    /// the active one (with its settings and fingerprint), the old one becomes <paramref name="retired"/>, and the
    /// collection version is bumped so cached results go. False when that re-index is not running.
    /// </summary>
    Task<bool> SwitchVersionAsync(string collection, Guid jobId, RetiredVersion retired, CancellationToken cancellationToken);

    /// <summary>Forgets the retired version once its backend collection is dropped; false when it is not the retired one.</summary>
    Task<bool> ClearRetiredAsync(string collection, int version, CancellationToken cancellationToken);
}
