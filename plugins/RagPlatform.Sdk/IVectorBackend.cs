namespace RagPlatform.Sdk;

/// <summary>
/// Stores points (vector + payload) in named collections and searches them. One instance serves the whole
/// process: implementations must allow concurrent calls (reads may run in parallel; writes may be serialised).
/// Every write is idempotent by point id, so a redelivered batch can never duplicate.
/// </summary>
public interface IVectorBackend : IAsyncDisposable
{
    /// <summary>
    /// Creates the collection, or checks that the existing one has the same dimensions, metric and fingerprint.
    /// Throws <see cref="VectorCollectionMismatchException"/> when it does not: a collection never mixes spaces.
    /// </summary>
    Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken);

    /// <summary>The collection's spec, or null when it does not exist.</summary>
    Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken);

    /// <summary>Drops the collection and its points; no-op when absent.</summary>
    Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces points by id. Vectors must have the collection's dimensions.</summary>
    Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken);

    /// <summary>Deletes points by id; ids that do not exist are ignored. Returns how many were removed.</summary>
    Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken);

    /// <summary>Deletes every point of a document. Returns how many were removed.</summary>
    Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken);

    /// <summary>Returns the points that exist among <paramref name="pointIds"/> (with vectors), in any order.</summary>
    Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken);

    /// <summary>The <see cref="VectorQuery.TopK"/> nearest points that pass the filter, best first.</summary>
    Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken);

    /// <summary>How many points pass the filter (all points when null).</summary>
    Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken);

    /// <summary>Streams every point out, for migration and backup. Order is unspecified but stable enough to resume by id.</summary>
    IAsyncEnumerable<VectorPoint> ExportAsync(string collection, CancellationToken cancellationToken);

    /// <summary>Streams points in (upserts by id), for migration and restore. Returns how many were written.</summary>
    Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken);
}

/// <summary>
/// Optional: a backend told which of its collections serves a platform collection whenever that is decided (the
/// collection is created or settings are saved, a blue/green re-index switches versions), so readers outside the
/// platform can follow the active version under a stable name (Qdrant: an alias). The platform's own version pointer
/// stays authoritative: a failure here is logged, not fatal.
/// </summary>
public interface IActiveCollectionAware
{
    /// <summary>Makes <paramref name="physicalCollection"/> the one that serves <paramref name="collection"/> (idempotent).</summary>
    Task ActivateAsync(string collection, string physicalCollection, CancellationToken cancellationToken);
}
