using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Faiss;

/// <summary>
/// The "faiss" vector backend: one FAISS index per collection, each in a folder of its own under
/// <see cref="FaissVectorOptions.Path"/>, opened at start and checkpointed on dispose.
/// </summary>
public sealed partial class FaissVectorBackend : IVectorBackend
{
    private const int ImportBatch = 1024;

    private readonly FaissVectorOptions _options;
    private readonly ILogger _logger;
    private readonly NativeFaiss _native;
    private readonly string _root;
    private readonly ConcurrentDictionary<string, FaissCollection> _collections = new(StringComparer.Ordinal);

    // Creating and dropping collections is rare; one lock keeps a name from being created twice at once.
    private readonly Lock _ddl = new();
    private bool _disposed;

    public FaissVectorBackend(FaissVectorOptions options, ILogger<FaissVectorBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(nameof(FaissVectorOptions), problems);
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _root = Path.GetFullPath(string.IsNullOrWhiteSpace(options.Path) ? "." : options.Path);
        _native = NativeFaiss.Load(options.NativeLibraryPath);
        Directory.CreateDirectory(_root);
        foreach (var directory in Directory.EnumerateDirectories(_root))
        {
            if (!FaissCollection.Exists(directory))
            {
                continue;
            }

            var collection = FaissCollection.Open(_native, _options, directory, _logger);
            _collections[collection.Manifest.Name] = collection;
        }

        _logger.LogInformation("FAISS backend at {Path} ({Count} collections, native {Library})", _root, _collections.Count, _native.LibraryPath);
    }

    public Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        lock (_ddl)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_collections.TryGetValue(spec.Name, out var existing))
            {
                var have = existing.Manifest.Spec;
                if (have.Dimensions != spec.Dimensions || have.Metric != spec.Metric || have.Fingerprint != spec.Fingerprint)
                {
                    throw new VectorCollectionMismatchException(
                        $"Vector collection '{spec.Name}' holds {have.Dimensions}-dimensional {have.Metric} vectors of {have.Fingerprint}; " +
                        $"asked for {spec.Dimensions}-dimensional {spec.Metric} vectors of {spec.Fingerprint}.");
                }

                return Task.CompletedTask;
            }

            var manifest = new CollectionManifest(spec.Name, spec.Dimensions, spec.Metric, spec.Fingerprint, _options.IndexFactory);
            _collections[spec.Name] = FaissCollection.Create(_native, _options, Path.Combine(_root, DirectoryName(spec.Name)), manifest, _logger);
        }

        return Task.CompletedTask;
    }

    public Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken) =>
        Task.FromResult(_collections.TryGetValue(collection, out var found) ? found.Manifest.Spec : null);

    public Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        lock (_ddl)
        {
            if (_collections.TryRemove(collection, out var found))
            {
                found.Drop();
            }
        }

        return Task.CompletedTask;
    }

    public Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        Get(collection).Upsert(points);
        return Task.CompletedTask;
    }

    public Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        return Task.FromResult(Get(collection).Delete(pointIds));
    }

    public Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        Task.FromResult(Get(collection).DeleteByDocument(documentId));

    public Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        return Task.FromResult(Get(collection).Retrieve(pointIds));
    }

    public Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken) =>
        Task.FromResult(Get(collection).Search(query));

    public Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken) =>
        Task.FromResult(Get(collection).Count(filter));

    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var points = Get(collection).SnapshotPoints();
        foreach (var point in points)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return point.ToVectorPoint();
        }

        await Task.CompletedTask;
    }

    public async Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        var target = Get(collection);
        long written = 0;
        await foreach (var batch in VectorPointBatches.ReadAsync(points, ImportBatch, cancellationToken))
        {
            target.Upsert(batch);
            written += batch.Count;
        }

        return written;
    }

    /// <summary>Writes every collection's index and snapshot now (dispose does it too).</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var collection in _collections.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            collection.Checkpoint();
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        lock (_ddl)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            foreach (var collection in _collections.Values)
            {
                collection.Dispose();
            }

            _collections.Clear();
        }

        return ValueTask.CompletedTask;
    }

    internal FaissCollection GetForTests(string collection) => Get(collection);

    private FaissCollection Get(string collection) =>
        _collections.TryGetValue(collection, out var found) ? found : throw new VectorCollectionNotFoundException(collection);

    /// <summary>Plain names keep their spelling on disk; anything else gets a hash, so no name can escape the root.</summary>
    private static string DirectoryName(string name)
    {
        if (SafeName().IsMatch(name))
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
        return "c-" + hash[..32];
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex SafeName();
}
