namespace RagPlatform.Core.Collections;

/// <summary>
/// Serialises work on the same documents (the worker bringing them to a revision, a delete), so two
/// revisions never interleave their diff-and-write. Embedded: <see cref="DocumentLocks"/>, in process.
/// Distributed: Postgres advisory locks, across every process sharing the database.
/// Implementations take several documents in one fixed order so two batches cannot deadlock.
/// </summary>
public interface IDocumentLocks
{
    /// <summary>Holds the documents' locks until the returned handle is disposed.</summary>
    Task<IAsyncDisposable> AcquireAsync(string collection, IEnumerable<string> documentIds, CancellationToken cancellationToken);
}
