using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Faiss;

/// <summary>
/// One collection: a FAISS index (inside an id map) plus, beside it, every point as stored (vector bit for
/// bit, payload, FAISS id). On disk: collection.json, a checkpoint (index.&lt;generation&gt;.faiss and
/// points.snap, both renamed into place only once complete and fsynced) and points.log, the writes since
/// that checkpoint. Reads share a lock and may run in parallel (FAISS searches are const); writes are
/// serialised.
/// </summary>
internal sealed class FaissCollection : IDisposable
{
    private const string ManifestFile = "collection.json";
    private const string SnapshotFile = "points.snap";
    private const string LogFile = "points.log";
    private const int SnapshotMagic = 0x4E534652; // "RFSN"
    private const int LogMagic = 0x474C4652; // "RFLG"
    private const int FormatVersion = 1;
    private const byte UpsertRecord = 1;
    private const byte DeleteRecord = 2;
    private const int AddBatch = 4096;

    private readonly NativeFaiss _native;
    private readonly FaissVectorOptions _options;
    private readonly string _directory;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, StoredPoint> _points = new(StringComparer.Ordinal);
    private readonly Dictionary<long, StoredPoint> _byFaissId = [];

    // FAISS ids still in the index whose points were deleted or replaced: index types that cannot remove
    // (HNSW) keep them until the next rebuild, and searches skip them.
    private readonly HashSet<long> _tombstones = [];
    private nint _index;
    private bool _canRemove = true;
    private long _nextFaissId;
    private long _generation;
    private FileStream? _log;
    private bool _dirty;
    private bool _closed;

    private FaissCollection(NativeFaiss native, FaissVectorOptions options, string directory, CollectionManifest manifest)
    {
        _native = native;
        _options = options;
        _directory = directory;
        Manifest = manifest;
    }

    public CollectionManifest Manifest { get; }

    private int Dimensions => Manifest.Dimensions;

    public static FaissCollection Create(NativeFaiss native, FaissVectorOptions options, string directory, CollectionManifest manifest)
    {
        // A folder left by an earlier failed create holds nothing worth keeping (no manifest was written).
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        var collection = new FaissCollection(native, options, directory, manifest);
        try
        {
            collection._index = collection.NewIndex();
            collection.StartLog();

            // Written last: a folder counts as a collection only once it is complete.
            manifest.Write(Path.Combine(directory, ManifestFile));
            return collection;
        }
        catch
        {
            collection.Close();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, ManifestFile));

    public static FaissCollection Open(NativeFaiss native, FaissVectorOptions options, string directory)
    {
        var manifest = CollectionManifest.Read(Path.Combine(directory, ManifestFile));
        var collection = new FaissCollection(native, options, directory, manifest);
        try
        {
            collection.Load();
            return collection;
        }
        catch
        {
            collection.Close();
            throw;
        }
    }

    // ---- writes ----------------------------------------------------------------------------------------

    public void Upsert(IReadOnlyList<VectorPoint> points)
    {
        // Validate the whole batch before anything changes: a bad vector refuses the batch.
        foreach (var point in points)
        {
            ArgumentNullException.ThrowIfNull(point);
            VectorMath.Validate(point.Vector, Dimensions, point.Id);
        }

        if (points.Count == 0)
        {
            return;
        }

        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();

            // Within one batch the last write of an id wins, as if the batch were applied in order.
            var latest = new Dictionary<string, VectorPoint>(StringComparer.Ordinal);
            foreach (var point in points)
            {
                latest[point.Id] = point;
            }

            var stored = new List<StoredPoint>(latest.Count);
            foreach (var point in latest.Values)
            {
                stored.Add(new StoredPoint(point.Id, _nextFaissId++, (float[])point.Vector.Clone(), point.Payload));
            }

            var logged = AppendLog(UpsertRecord, writer =>
            {
                writer.Write(stored.Count);
                foreach (var point in stored)
                {
                    PointCodec.Write(writer, point);
                }
            });
            try
            {
                ApplyUpserts(stored);
            }
            catch
            {
                // FAISS refused the vectors (e.g. an IVF index that cannot train on so few): forget the
                // record too, or every reopen would fail replaying it.
                _log?.SetLength(logged);
                throw;
            }

            AfterWrite();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public long Delete(IReadOnlyList<string> pointIds)
    {
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            var doomed = pointIds.Where(_points.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
            return DeleteLocked(doomed);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public long DeleteByDocument(string documentId)
    {
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            var doomed = _points.Values
                .Where(p => string.Equals(p.Payload.DocumentId, documentId, StringComparison.Ordinal))
                .Select(p => p.Id)
                .ToList();
            return DeleteLocked(doomed);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private long DeleteLocked(List<string> doomed)
    {
        if (doomed.Count == 0)
        {
            return 0;
        }

        AppendLog(DeleteRecord, writer =>
        {
            writer.Write(doomed.Count);
            foreach (var id in doomed)
            {
                writer.Write(id);
            }
        });
        ApplyDeletes(doomed);
        AfterWrite();
        return doomed.Count;
    }

    /// <summary>Writes a checkpoint (index file + snapshot) and empties the log, when anything changed since the last one.</summary>
    public void Checkpoint()
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_closed)
            {
                CheckpointLocked();
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Rebuilds the index from the live points now (normally done when tombstones pile up).</summary>
    public void Rebuild()
    {
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            RebuildLocked();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    // ---- reads -----------------------------------------------------------------------------------------

    public IReadOnlyList<VectorSearchHit> Search(VectorQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        VectorMath.Validate(query.Vector, Dimensions, "query");
        var filter = query.Filter is { IsEmpty: false } f ? f : null;
        var queryVector = (float[])query.Vector.Clone();
        if (Manifest.Metric == DistanceMetric.Cosine)
        {
            VectorMath.NormalizeInPlace(queryVector);
        }

        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            if (query.TopK <= 0 || _points.Count == 0)
            {
                return [];
            }

            var k = Math.Min(query.TopK, _points.Count);
            var total = _native.Count(_index);
            if (filter is null && _tombstones.Count == 0)
            {
                var hits = SearchIndex(queryVector, k, k, null);
                return hits.Count >= k ? hits : ExactSearch(queryVector, k, null);
            }

            // Filters and deleted-but-indexed vectors both drop hits: oversample, widening until k hits
            // survive; once that would cover a large share of the index, an exact scan of the stored vectors
            // is cheaper and always finds every match.
            var fetch = (long)k * _options.Oversampling;
            while (fetch < total && fetch <= total * _options.ExactFilterFraction)
            {
                var hits = SearchIndex(queryVector, (int)fetch, k, filter);
                if (hits.Count >= k)
                {
                    return hits;
                }

                fetch *= _options.Oversampling;
            }

            return ExactSearch(queryVector, k, filter);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public IReadOnlyList<VectorPoint> Retrieve(IReadOnlyList<string> pointIds)
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            var found = new List<VectorPoint>();
            foreach (var id in pointIds.Distinct(StringComparer.Ordinal))
            {
                if (_points.TryGetValue(id, out var point))
                {
                    found.Add(point.ToVectorPoint());
                }
            }

            return found;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public long Count(VectorFilter? filter)
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            return filter is null || filter.IsEmpty ? _points.Count : _points.Values.LongCount(p => filter.Matches(p.Payload));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Every live point, in FAISS-id order (insertion order), copied under the lock.</summary>
    public IReadOnlyList<StoredPoint> SnapshotPoints()
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            return [.. _points.Values.OrderBy(p => p.FaissId)];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>For tests and diagnostics: vectors in the index, and how many of them are deleted.</summary>
    internal (long IndexTotal, int Tombstones, long Generation) Diagnostics()
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            return (_native.Count(_index), _tombstones.Count, _generation);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    // ---- lifetime --------------------------------------------------------------------------------------

    /// <summary>Checkpoints and closes.</summary>
    public void Dispose()
    {
        _lock.EnterWriteLock();
        try
        {
            if (_closed)
            {
                return;
            }

            CheckpointLocked();
            Close();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Closes without a checkpoint and removes every file of the collection.</summary>
    public void Drop()
    {
        _lock.EnterWriteLock();
        try
        {
            Close();
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private void Close()
    {
        _closed = true;
        _log?.Dispose();
        _log = null;
        _native.Free(_index);
        _index = 0;
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new VectorCollectionNotFoundException(Manifest.Name);
        }
    }

    // ---- index -----------------------------------------------------------------------------------------

    private nint NewIndex()
    {
        var index = _native.Create(Manifest.IndexFactory, Dimensions, Manifest.Metric == DistanceMetric.Euclidean);
        _native.SetHnsw(index, _options.HnswEfSearch, _options.HnswEfConstruction);
        return index;
    }

    /// <summary>Adds points to the index in batches; cosine collections index unit-length copies.</summary>
    private void AddToIndex(nint index, IReadOnlyList<StoredPoint> points)
    {
        for (var start = 0; start < points.Count; start += AddBatch)
        {
            var count = Math.Min(AddBatch, points.Count - start);
            var vectors = new float[count * Dimensions];
            var ids = new long[count];
            for (var i = 0; i < count; i++)
            {
                var point = points[start + i];
                var target = vectors.AsSpan(i * Dimensions, Dimensions);
                point.Vector.CopyTo(target);
                if (Manifest.Metric == DistanceMetric.Cosine)
                {
                    VectorMath.NormalizeInPlace(target);
                }

                ids[i] = point.FaissId;
            }

            if (!_native.IsTrained(index))
            {
                // Index types that learn from data (IVF, PQ) train on the first vectors they are given.
                _native.Train(index, vectors, Dimensions);
            }

            _native.Add(index, vectors, ids);
        }
    }

    private void RemoveFromIndex(List<long> faissIds)
    {
        if (faissIds.Count == 0)
        {
            return;
        }

        if (_canRemove)
        {
            if (_native.Remove(_index, CollectionsMarshal.AsSpan(faissIds)) is not null)
            {
                return;
            }

            _canRemove = false;
        }

        _tombstones.UnionWith(faissIds);
    }

    private void RebuildLocked()
    {
        var fresh = NewIndex();
        try
        {
            AddToIndex(fresh, [.. _points.Values.OrderBy(p => p.FaissId)]);
        }
        catch
        {
            _native.Free(fresh);
            throw;
        }

        _native.Free(_index);
        _index = fresh;
        _tombstones.Clear();
        _dirty = true;
    }

    private List<VectorSearchHit> SearchIndex(float[] query, int fetch, int k, VectorFilter? filter)
    {
        var distances = new float[fetch];
        var labels = new long[fetch];
        _native.Search(_index, query, fetch, distances, labels);
        var hits = new List<VectorSearchHit>(k);
        for (var i = 0; i < fetch && hits.Count < k; i++)
        {
            if (labels[i] < 0 || !_byFaissId.TryGetValue(labels[i], out var point))
            {
                continue;
            }

            if (filter is null || filter.Matches(point.Payload))
            {
                hits.Add(new VectorSearchHit(point.Id, ToScore(distances[i]), point.Payload));
            }
        }

        return hits;
    }

    private float ToScore(float distance) =>
        Manifest.Metric == DistanceMetric.Euclidean ? -MathF.Sqrt(MathF.Max(0, distance)) : distance;

    /// <summary>Brute force over the stored vectors: the fallback for selective filters.</summary>
    private List<VectorSearchHit> ExactSearch(float[] query, int k, VectorFilter? filter)
    {
        // Min-heap of the best k so far: the root is the worst kept hit.
        var best = new PriorityQueue<StoredPoint, float>(k + 1);
        foreach (var point in _points.Values)
        {
            if (filter is not null && !filter.Matches(point.Payload))
            {
                continue;
            }

            var score = ExactScore(query, point.Vector);
            if (best.Count < k)
            {
                best.Enqueue(point, score);
            }
            else if (best.TryPeek(out _, out var worst) && score > worst)
            {
                best.EnqueueDequeue(point, score);
            }
        }

        var hits = new List<VectorSearchHit>(best.Count);
        while (best.TryDequeue(out var point, out var score))
        {
            hits.Add(new VectorSearchHit(point.Id, score, point.Payload));
        }

        hits.Reverse();
        return hits;
    }

    private float ExactScore(float[] query, float[] vector)
    {
        switch (Manifest.Metric)
        {
            case DistanceMetric.Cosine:
                // The query is already unit length.
                var norm = TensorPrimitives.Norm(vector);
                return norm > 0 && float.IsFinite(norm) ? TensorPrimitives.Dot(query, vector) / norm : 0;
            case DistanceMetric.DotProduct:
                return TensorPrimitives.Dot(query, vector);
            default:
                return -TensorPrimitives.Distance(query, vector);
        }
    }

    // ---- applying writes -------------------------------------------------------------------------------

    private void ApplyUpserts(List<StoredPoint> stored)
    {
        var replaced = new List<long>();
        foreach (var point in stored)
        {
            if (_points.TryGetValue(point.Id, out var old))
            {
                replaced.Add(old.FaissId);
                _byFaissId.Remove(old.FaissId);
            }

            _nextFaissId = Math.Max(_nextFaissId, point.FaissId + 1);
        }

        AddToIndex(_index, stored);
        foreach (var point in stored)
        {
            _points[point.Id] = point;
            _byFaissId[point.FaissId] = point;
        }

        RemoveFromIndex(replaced);
        _dirty = true;
    }

    private void ApplyDeletes(List<string> ids)
    {
        var removed = new List<long>(ids.Count);
        foreach (var id in ids)
        {
            if (_points.Remove(id, out var old))
            {
                _byFaissId.Remove(old.FaissId);
                removed.Add(old.FaissId);
            }
        }

        RemoveFromIndex(removed);
        _dirty = true;
    }

    private void AfterWrite()
    {
        var total = _native.Count(_index);
        if (_tombstones.Count > 0 && _tombstones.Count >= total * _options.RebuildTombstoneFraction)
        {
            RebuildLocked();
        }

        if (_log is not null && _log.Length >= _options.CheckpointAfterLogBytes)
        {
            CheckpointLocked();
        }
    }

    // ---- persistence -----------------------------------------------------------------------------------

    private void CheckpointLocked()
    {
        if (!_dirty)
        {
            return;
        }

        var generation = _generation + 1;
        var indexPath = IndexPath(generation);
        _native.Write(_index, indexPath + ".tmp");
        AtomicFile.Commit(indexPath + ".tmp", indexPath);

        AtomicFile.Write(Path.Combine(_directory, SnapshotFile), stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(SnapshotMagic);
            writer.Write(FormatVersion);
            writer.Write(generation);
            writer.Write(_nextFaissId);
            writer.Write(_points.Count);
            foreach (var point in _points.Values.OrderBy(p => p.FaissId))
            {
                PointCodec.Write(writer, point);
            }

            writer.Write(_tombstones.Count);
            foreach (var id in _tombstones)
            {
                writer.Write(id);
            }
        });

        // From here the snapshot holds everything; a log of an older generation is ignored when loading.
        var previous = _generation;
        _generation = generation;
        StartLog();
        File.Delete(IndexPath(previous));
        _dirty = false;
    }

    private string IndexPath(long generation) => Path.Combine(_directory, $"index.{generation}.faiss");

    /// <summary>Replaces the log with an empty one of the current generation.</summary>
    private void StartLog()
    {
        _log?.Dispose();
        var path = Path.Combine(_directory, LogFile);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(LogMagic);
            writer.Write(FormatVersion);
            writer.Write(_generation);
        });
        _log = OpenLogForAppend(path);
    }

    private static FileStream OpenLogForAppend(string path)
    {
        var log = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        log.Seek(0, SeekOrigin.End);
        return log;
    }

    /// <summary>One record: length, checksum, then the body. A crash mid-write leaves a torn tail that loading drops.</summary>
    private long AppendLog(byte type, Action<BinaryWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(0);
            writer.Write(0u);
            writer.Write(type);
            body(writer);
        }

        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        var content = bytes[8..];
        BitConverter.TryWriteBytes(bytes[..4], content.Length);
        BitConverter.TryWriteBytes(bytes[4..8], PointCodec.Checksum(content));
        var log = _log ?? throw new ObjectDisposedException(nameof(FaissCollection));
        var start = log.Position;
        try
        {
            log.Write(bytes);
            log.Flush(_options.FlushToDisk);
        }
        catch
        {
            // Leave no half record behind for the next append to follow.
            log.SetLength(start);
            throw;
        }

        return start;
    }

    private void Load()
    {
        var snapshotPath = Path.Combine(_directory, SnapshotFile);
        if (File.Exists(snapshotPath))
        {
            using var reader = new BinaryReader(File.OpenRead(snapshotPath), System.Text.Encoding.UTF8);
            if (reader.ReadInt32() != SnapshotMagic || reader.ReadInt32() != FormatVersion)
            {
                throw new InvalidDataException($"{snapshotPath} is not a FAISS backend snapshot of this version.");
            }

            _generation = reader.ReadInt64();
            _nextFaissId = reader.ReadInt64();
            var count = reader.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var point = PointCodec.Read(reader);
                _points[point.Id] = point;
                _byFaissId[point.FaissId] = point;
            }

            var tombstones = reader.ReadInt32();
            for (var i = 0; i < tombstones; i++)
            {
                _tombstones.Add(reader.ReadInt64());
            }
        }

        var indexPath = IndexPath(_generation);
        if (File.Exists(indexPath))
        {
            _index = _native.Read(indexPath);
            _native.SetHnsw(_index, _options.HnswEfSearch, _options.HnswEfConstruction);
            if (_native.Count(_index) != _points.Count + _tombstones.Count)
            {
                RebuildLocked();
            }
        }
        else
        {
            // No index file for this snapshot (first start, or it was lost): rebuild it from the stored vectors.
            _index = NewIndex();
            _tombstones.Clear();
            AddToIndex(_index, [.. _points.Values.OrderBy(p => p.FaissId)]);
            _dirty = _points.Count > 0;
        }

        ReplayLog();
    }

    private void ReplayLog()
    {
        var path = Path.Combine(_directory, LogFile);
        if (!File.Exists(path))
        {
            StartLog();
            return;
        }

        var log = OpenLogForAppend(path);
        log.Seek(0, SeekOrigin.Begin);
        using (var reader = new BinaryReader(log, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var valid = log.Length >= 16 && reader.ReadInt32() == LogMagic && reader.ReadInt32() == FormatVersion;
            if (!valid || reader.ReadInt64() != _generation)
            {
                // A log of another generation was already folded into the snapshot before it was replaced.
                log.Dispose();
                StartLog();
                return;
            }

            var good = log.Position;
            while (log.Length - log.Position >= 8)
            {
                var length = reader.ReadInt32();
                var checksum = reader.ReadUInt32();
                if (length <= 0 || length > log.Length - log.Position)
                {
                    break;
                }

                var body = reader.ReadBytes(length);
                if (PointCodec.Checksum(body) != checksum)
                {
                    break;
                }

                ApplyRecord(body);
                good = log.Position;
            }

            // Drop a torn tail so new records follow the last complete one.
            log.SetLength(good);
            log.Seek(0, SeekOrigin.End);
        }

        _log = log;
    }

    private void ApplyRecord(byte[] body)
    {
        using var reader = new BinaryReader(new MemoryStream(body), System.Text.Encoding.UTF8);
        var type = reader.ReadByte();
        var count = reader.ReadInt32();
        if (type == UpsertRecord)
        {
            var points = new List<StoredPoint>(count);
            for (var i = 0; i < count; i++)
            {
                points.Add(PointCodec.Read(reader));
            }

            ApplyUpserts(points);
        }
        else if (type == DeleteRecord)
        {
            var ids = new List<string>(count);
            for (var i = 0; i < count; i++)
            {
                ids.Add(reader.ReadString());
            }

            ApplyDeletes(ids);
        }
        else
        {
            throw new InvalidDataException($"Unknown record type {type} in {Path.Combine(_directory, LogFile)}.");
        }
    }
}
