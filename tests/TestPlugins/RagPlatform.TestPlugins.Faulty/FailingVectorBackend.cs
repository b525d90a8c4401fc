using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(RagPlatform.TestPlugins.Faulty.FailingVectorBackendPlugin))]

namespace RagPlatform.TestPlugins.Faulty;

/// <summary>Vector backend "failing": keeps points in memory and accepts writes, but every search fails (a primary that is down for reads).</summary>
public sealed class FailingVectorBackendPlugin : IVectorBackendPlugin
{
    public string Name => "failing";

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IVectorBackend> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IVectorBackend Create(PluginContext context) => new FailingVectorBackend();
}

public sealed class FailingVectorBackend : IVectorBackend
{
    private readonly ConcurrentDictionary<string, (VectorCollectionSpec Spec, ConcurrentDictionary<string, VectorPoint> Points)> _collections = new(StringComparer.Ordinal);

    public Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        var held = _collections.GetOrAdd(spec.Name, _ => (spec, new ConcurrentDictionary<string, VectorPoint>(StringComparer.Ordinal)));
        return held.Spec == spec ? Task.CompletedTask : throw new VectorCollectionMismatchException($"'{spec.Name}' has another spec.");
    }

    public Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken) =>
        Task.FromResult(_collections.TryGetValue(collection, out var held) ? held.Spec : null);

    public Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        _collections.TryRemove(collection, out _);
        return Task.CompletedTask;
    }

    public Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        foreach (var point in points)
        {
            Get(collection)[point.Id] = point;
        }

        return Task.CompletedTask;
    }

    public Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken) =>
        Task.FromResult((long)pointIds.Distinct().Count(id => Get(collection).TryRemove(id, out _)));

    public Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        Task.FromResult((long)Get(collection).Values.Where(p => p.Payload.DocumentId == documentId).ToList().Count(p => Get(collection).TryRemove(p.Id, out _)));

    public Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<VectorPoint>>([.. pointIds.Distinct().Select(id => Get(collection).GetValueOrDefault(id)).OfType<VectorPoint>()]);

    public Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The failing vector backend is down for searches.");

    public Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken) =>
        Task.FromResult((long)Get(collection).Values.Count(p => filter is null || filter.Matches(p.Payload)));

    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var point in Get(collection).Values.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            yield return point;
        }

        await Task.CompletedTask;
    }

    public async Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken)
    {
        long written = 0;
        await foreach (var batch in VectorPointBatches.ReadAsync(points, 100, cancellationToken))
        {
            await UpsertAsync(collection, batch, cancellationToken);
            written += batch.Count;
        }

        return written;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private ConcurrentDictionary<string, VectorPoint> Get(string collection) =>
        _collections.TryGetValue(collection, out var held) ? held.Points : throw new VectorCollectionNotFoundException(collection);
}
