using RagPlatform.Lexical;
using RagPlatform.Sdk;

namespace RagPlatform.Core.IndexOwner;

/// <summary>The index owner's lexical index, used through its internal API.</summary>
public sealed class RemoteLexicalIndex(IndexOwnerClient client) : ILexicalIndex
{
    public Task UpsertAsync(string collection, IReadOnlyList<LexicalChunk> chunks, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, Path(collection) + "/upsert", chunks, cancellationToken);

    public Task DeleteAsync(string collection, IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, Path(collection) + "/delete", ids, cancellationToken);

    public Task DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, Path(collection) + "/delete-document", new DocumentReference(documentId), cancellationToken);

    public Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Delete, Path(collection), null, cancellationToken);

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(
        string collection, string query, int topK, VectorFilter? filter, CancellationToken cancellationToken) =>
        (await client.SendAsync<List<VectorSearchHit>>(
            HttpMethod.Post, Path(collection) + "/search", new LexicalSearchRequest(query, topK, filter), cancellationToken))!;

    private static string Path(string collection) => $"lexical/{IndexOwnerClient.Segment(collection)}";
}
