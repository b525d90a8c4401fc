using System.Runtime.CompilerServices;
using RagPlatform.Sdk;

namespace RagPlatform.Core.IndexOwner;

/// <summary>A vector backend of the index owner's process, used through its internal API.</summary>
public sealed class RemoteVectorBackend(string backend, IndexOwnerClient client) : IVectorBackend
{
    private const int ImportBatchSize = 512;

    public Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Put, Path(spec.Name), spec, cancellationToken);

    public async Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        try
        {
            return await client.SendAsync<VectorCollectionSpec>(HttpMethod.Get, Path(collection), null, cancellationToken);
        }
        catch (VectorCollectionNotFoundException)
        {
            return null;
        }
    }

    public Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Delete, Path(collection), null, cancellationToken);

    public Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, Path(collection) + "/upsert", OwnerPoint.From(points), cancellationToken);

    public async Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken) =>
        (await client.SendAsync<CountResponse>(HttpMethod.Post, Path(collection) + "/delete", pointIds, cancellationToken))!.Count;

    public async Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        (await client.SendAsync<CountResponse>(HttpMethod.Post, Path(collection) + "/delete-document", new DocumentReference(documentId), cancellationToken))!.Count;

    public async Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken) =>
        (await client.SendAsync<List<OwnerPoint>>(HttpMethod.Post, Path(collection) + "/retrieve", pointIds, cancellationToken))!
            .Select(p => p.ToPoint()).ToList();

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken) =>
        (await client.SendAsync<List<VectorSearchHit>>(HttpMethod.Post, Path(collection) + "/search", query, cancellationToken))!;

    public async Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken) =>
        (await client.SendAsync<CountResponse>(HttpMethod.Post, Path(collection) + "/count", new CountRequest(filter), cancellationToken))!.Count;

    /// <summary>The owner answers the whole collection in one response: fine for the dev topology this serves.</summary>
    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var points = await client.SendAsync<List<OwnerPoint>>(HttpMethod.Post, Path(collection) + "/export", null, cancellationToken);
        foreach (var point in points!)
        {
            yield return point.ToPoint();
        }
    }

    public async Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken)
    {
        long written = 0;
        var batch = new List<VectorPoint>(ImportBatchSize);
        await foreach (var point in points.WithCancellation(cancellationToken))
        {
            batch.Add(point);
            if (batch.Count == ImportBatchSize)
            {
                await UpsertAsync(collection, batch, cancellationToken);
                written += batch.Count;
                batch = new List<VectorPoint>(ImportBatchSize);
            }
        }

        if (batch.Count > 0)
        {
            await UpsertAsync(collection, batch, cancellationToken);
            written += batch.Count;
        }

        return written;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string Path(string collection) => $"vectors/{IndexOwnerClient.Segment(backend)}/{IndexOwnerClient.Segment(collection)}";
}
