using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// An in-process vector store: exact (brute-force, SIMD) top-k search over one contiguous block of floats
/// per collection, persisted under <see cref="EmbeddedVectorOptions.Path"/> as one folder per collection holding
/// <c>collection.json</c>, a binary snapshot and an append-only log of the writes since that snapshot.
/// Collections are read from disk the first time they are used.
/// </summary>
public sealed class EmbeddedVectorBackend : IVectorBackend
{
    private const string LockFileName = ".lock";
    private const string CreatingPrefix = ".creating-";
    private const string DeletingPrefix = ".deleted-";
    private const int ExportChunk = 256;
    private const int ImportBatch = 256;

    private static readonly SearchValues<char> SafeNameChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_-");

    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, EmbeddedCollection> _collections = new(StringComparer.Ordinal);
    private readonly EmbeddedVectorOptions _options;

    // Serialises creating, deleting and closing collections; async because deleting waits for a write in flight.
    private readonly SemaphoreSlim _catalogGate = new(1, 1);
    private readonly FileStream _lockFile;
    private int _disposed;

    /// <summary>Opens (or creates) the store at <see cref="EmbeddedVectorOptions.Path"/>.</summary>
    /// <exception cref="IOException">Another backend instance already has the folder open.</exception>
    public EmbeddedVectorBackend(EmbeddedVectorOptions options, ILogger<EmbeddedVectorBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            problems.Add($"{nameof(options.Path)} is required.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid {nameof(EmbeddedVectorOptions)}: {string.Join("; ", problems)}", nameof(options));
        }

        // A private copy: changing the caller's object later must not change a running store.
        _options = Copy(options, System.IO.Path.GetFullPath(options.Path!));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The embedded vector store's file format is little-endian only.");
        }

        Directory.CreateDirectory(Root);
        try
        {
            // Two processes appending to one log would corrupt it; the OS lock makes the second one fail here.
            _lockFile = new FileStream(System.IO.Path.Combine(Root, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The vector store at '{Root}' is already open in another backend instance or process.", e);
        }

        try
        {
            Discover();
        }
        catch
        {
            _lockFile.Dispose();
            throw;
        }
    }

    /// <summary>A copy of the settings in force (<see cref="EmbeddedVectorOptions.Path"/> made absolute).</summary>
    public EmbeddedVectorOptions Options => Copy(_options, _options.Path);

    private string Root => _options.Path!;

    public async Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        ValidateSpec(spec);
        ThrowIfDisposed();
        await _catalogGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfDisposed();
            if (_collections.TryGetValue(spec.Name, out var existing))
            {
                ThrowIfDifferent(existing.Spec, spec);
                return;
            }

            var folder = System.IO.Path.Combine(Root, FolderName(spec.Name));
            if (Directory.Exists(folder))
            {
                throw new IOException(
                    $"Folder '{folder}' exists but holds no readable collection (see the log from start-up); move it away to create '{spec.Name}'.");
            }

            // Built aside and renamed into place, so a collection folder never exists without its spec.
            var staging = System.IO.Path.Combine(Root, CreatingPrefix + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(staging);
            try
            {
                EmbeddedCollection.WriteSpec(staging, spec);
                Directory.Move(staging, folder);
            }
            catch
            {
                TryDeleteFolder(staging);
                throw;
            }

            RagPlatform.Sdk.Storage.Journal.FlushDirectory(Root);
            _collections[spec.Name] = new EmbeddedCollection(spec, folder, _options, _logger);
            _logger.LogInformation("Created vector collection '{Collection}' ({Dimensions} dims, {Metric}, {Fingerprint}).", spec.Name, spec.Dimensions, spec.Metric, spec.Fingerprint);
        }
        finally
        {
            _catalogGate.Release();
        }
    }

    public Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ThrowIfDisposed();
        return Task.FromResult(_collections.TryGetValue(collection, out var found) ? found.Spec : null);
    }

    public async Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ThrowIfDisposed();
        await _catalogGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfDisposed();
            if (!_collections.TryRemove(collection, out var removed))
            {
                return;
            }

            // Waits for a write in progress, then every later call on this collection reports it missing.
            await removed.DropAsync();

            // Renamed first so a crash halfway through the recursive delete cannot leave a half-collection behind.
            if (Directory.Exists(removed.Directory))
            {
                var trash = System.IO.Path.Combine(Root, DeletingPrefix + Guid.NewGuid().ToString("N"));
                Directory.Move(removed.Directory, trash);
                RagPlatform.Sdk.Storage.Journal.FlushDirectory(Root);
                TryDeleteFolder(trash);
            }

            _logger.LogInformation("Deleted vector collection '{Collection}'.", collection);
        }
        finally
        {
            _catalogGate.Release();
        }
    }

    public Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken) =>
        Get(collection).UpsertAsync(points, cancellationToken);

    public Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken) =>
        Get(collection).DeleteAsync(pointIds, cancellationToken);

    public Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken) =>
        Get(collection).DeleteByDocumentAsync(documentId, cancellationToken);

    public Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Get(collection).Retrieve(pointIds));
    }

    public Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken) =>
        Get(collection).SearchAsync(query, cancellationToken);

    public Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Get(collection).Count(filter));
    }

    /// <summary>Points in ordinal id order, read in chunks (a write between chunks is seen or not, never torn).</summary>
    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var source = Get(collection);
        var ids = source.SortedIds();
        for (var start = 0; start < ids.Length; start += ExportChunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = new ArraySegment<string>(ids, start, Math.Min(ExportChunk, ids.Length - start));
            foreach (var point in source.Retrieve(chunk))
            {
                yield return point;
            }

            // Lets a consumer on the same thread make progress between chunks.
            await Task.Yield();
        }
    }

    public async Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        var target = Get(collection);
        long written = 0;
        await foreach (var batch in VectorPointBatches.ReadAsync(points, ImportBatch, cancellationToken))
        {
            await target.UpsertAsync(batch, cancellationToken);
            written += batch.Count;
        }

        return written;
    }

    /// <summary>Snapshots every collection with pending log records and releases the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await _catalogGate.WaitAsync();
        try
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            foreach (var collection in _collections.Values)
            {
                await collection.CloseAsync();
            }

            await _lockFile.DisposeAsync();
        }
        finally
        {
            _catalogGate.Release();
        }
    }

    /// <summary>Releases every file without snapshotting, leaving them as a crash would (tests of recovery).</summary>
    internal void Abandon()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var collection in _collections.Values)
        {
            collection.Abandon();
        }

        _lockFile.Dispose();
    }

    /// <summary>The folder a collection lives in: its name when that is a safe file name, else a hash of it.</summary>
    internal static string FolderName(string collection)
    {
        var safe = collection.Length is > 0 and <= 64
            && collection.AsSpan().IndexOfAnyExcept(SafeNameChars) < 0;
        if (safe)
        {
            return collection;
        }

        // '~' never occurs in a safe name, so an escaped name cannot collide with a plain one.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(collection));
        return "~" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    internal EmbeddedCollection GetCollectionForTesting(string collection) => Get(collection);

    private void Discover()
    {
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var name = System.IO.Path.GetFileName(folder);
            if (name.StartsWith(CreatingPrefix, StringComparison.Ordinal) || name.StartsWith(DeletingPrefix, StringComparison.Ordinal))
            {
                // Left by a crash during create or delete; neither was ever a usable collection.
                TryDeleteFolder(folder);
                continue;
            }

            VectorCollectionSpec spec;
            try
            {
                spec = EmbeddedCollection.ReadSpec(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException
                or System.Text.Json.JsonException or KeyNotFoundException or ArgumentException or InvalidOperationException)
            {
                // One unreadable folder must not take the other collections down with it.
                _logger.LogError(e, "Skipping '{Folder}': its {File} cannot be read.", folder, EmbeddedCollection.SpecFileName);
                continue;
            }

            if (!_collections.TryAdd(spec.Name, new EmbeddedCollection(spec, folder, _options, _logger)))
            {
                _logger.LogError("Skipping '{Folder}': collection '{Collection}' is already stored in another folder.", folder, spec.Name);
            }
        }
    }

    private static EmbeddedVectorOptions Copy(EmbeddedVectorOptions options, string? path) => new()
    {
        Path = path,
        FlushToDisk = options.FlushToDisk,
        CompactAfterLogBytes = options.CompactAfterLogBytes,
        ParallelSearchThreshold = options.ParallelSearchThreshold,
        BatchConcurrentSearches = options.BatchConcurrentSearches,
        BFloat16Prefilter = options.BFloat16Prefilter,
    };

    private EmbeddedCollection Get(string collection)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ThrowIfDisposed();
        return _collections.TryGetValue(collection, out var found) ? found : throw new VectorCollectionNotFoundException(collection);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private void TryDeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(e, "Could not delete '{Folder}'; it is removed at the next start.", folder);
        }
    }

    private static void ValidateSpec(VectorCollectionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        ModelFingerprint stored;
        try
        {
            stored = ModelFingerprint.Parse(spec.Fingerprint.ToString());
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"Fingerprint '{spec.Fingerprint}' cannot be stored: it does not read back.", nameof(spec), e);
        }

        if (stored != spec.Fingerprint)
        {
            throw new ArgumentException($"Fingerprint '{spec.Fingerprint}' cannot be stored: it reads back differently.", nameof(spec));
        }
    }

    private static void ThrowIfDifferent(VectorCollectionSpec existing, VectorCollectionSpec requested)
    {
        var differences = new List<string>();
        if (existing.Dimensions != requested.Dimensions)
        {
            differences.Add($"dimensions {existing.Dimensions} (asked for {requested.Dimensions})");
        }

        if (existing.Metric != requested.Metric)
        {
            differences.Add($"metric {existing.Metric} (asked for {requested.Metric})");
        }

        if (existing.Fingerprint != requested.Fingerprint)
        {
            differences.Add($"fingerprint {existing.Fingerprint} (asked for {requested.Fingerprint})");
        }

        if (differences.Count > 0)
        {
            throw new VectorCollectionMismatchException(
                $"Vector collection '{existing.Name}' already exists with {string.Join(", ", differences)}.");
        }
    }
}
