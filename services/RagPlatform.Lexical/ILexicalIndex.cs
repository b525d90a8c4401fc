using RagPlatform.Sdk;

namespace RagPlatform.Lexical;

/// <summary>One chunk as the lexical index holds it: its point id and the payload its vector point carries.</summary>
public sealed record LexicalChunk(string Id, PointPayload Payload);

/// <summary>
/// The BM25 index of every collection, kept in step with the vector points by the embedding worker (same
/// ids, same payloads, written at the same moments). Writes are upserts and deletes by id, so a redelivered
/// message changes nothing. Implementations: embedded (files under the data directory); Postgres later.
/// </summary>
public interface ILexicalIndex
{
    /// <summary>Adds or replaces chunks (by id); a replaced chunk's old terms are removed.</summary>
    Task UpsertAsync(string collection, IReadOnlyList<LexicalChunk> chunks, CancellationToken cancellationToken);

    /// <summary>Removes chunks by id; unknown ids are ignored.</summary>
    Task DeleteAsync(string collection, IReadOnlyCollection<string> ids, CancellationToken cancellationToken);

    /// <summary>Removes every chunk of a document.</summary>
    Task DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken);

    /// <summary>Drops the collection's index; a missing one is not an error.</summary>
    Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken);

    /// <summary>The best <paramref name="topK"/> chunks by BM25 that pass <paramref name="filter"/>
    /// (<see cref="VectorFilter.Matches"/> semantics); ties are broken by id so results are stable.</summary>
    Task<IReadOnlyList<VectorSearchHit>> SearchAsync(
        string collection, string query, int topK, VectorFilter? filter, CancellationToken cancellationToken);
}
