using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Storage;

namespace RagPlatform.Plugins.Faiss;

/// <summary>
/// One collection: a FAISS index (inside an id map) plus, beside it, every point as stored (vector bit for
/// bit, payload, FAISS id). On disk: collection.json, index.&lt;generation&gt;.faiss (renamed into place once complete
/// and fsynced) and the points in the platform's <see cref="Journal"/>: its snapshot is the checkpoint of the same
/// generation as the index file, its log the writes since. Files of the format before the journal
/// (points.snap, points.log) are read once and rewritten. Reads share a lock and may run in parallel (FAISS searches are const); writes are
/// serialised.
/// </summary>
internal sealed class FaissCollection : IDisposable
{
    private const string ManifestFile = "collection.json";
    private const string LegacySnapshotFile = "points.snap";
    private const string LegacyLogFile = "points.log";
    private const int LegacySnapshotMagic = 0x4E534652; // "RFSN"
    private const int LegacyLogMagic = 0x474C4652; // "RFLG"
    private const int LegacyFormatVersion = 1;
    private const byte UpsertRecord = 1;
    private const byte DeleteRecord = 2;

    // The snapshot's first frame: the next FAISS id and the tombstones; its points follow in upsert frames.
    private const byte SnapshotStateRecord = 3;
    private const int SnapshotPointsPerFrame = 1024;
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
    private Journal? _journal;
    private readonly ILogger _logger;
    private bool _dirty;
    private bool _closed;

    private FaissCollection(NativeFaiss native, FaissVectorOptions options, string directory, CollectionManifest manifest, ILogger? logger)
    {
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _native = native;
        _options = options;
        _directory = directory;
        Manifest = manifest;
    }

    public CollectionManifest Manifest { get; }

    private int Dimensions => Manifest.Dimensions;

    public static FaissCollection Create(NativeFaiss native, FaissVectorOptions options, string directory, CollectionManifest manifest, ILogger? logger = null)
    {
        // A folder left by an earlier failed create holds nothing worth keeping (no manifest was written).
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        var collection = new FaissCollection(native, options, directory, manifest, logger);
        try
        {
            collection._index = collection.NewIndex();
            collection._journal = Journal.Open(directory, collection.JournalSettings(onSnapshotLoaded: null), collection.Replay, collection._logger);

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

    public static FaissCollection Open(NativeFaiss native, FaissVectorOptions options, string directory, ILogger? logger = null)
    {
        var manifest = CollectionManifest.Read(Path.Combine(directory, ManifestFile));
        var collection = new FaissCollection(native, options, directory, manifest, logger);
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
                _journal?.TruncateTo(logged);
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
            return (_native.Count(_index), _tombstones.Count, _journal?.Generation ?? 0);
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
        _journal?.Dispose();
        _journal = null;
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

        if (_journal is not null && _journal.LogBytes >= _options.CheckpointAfterLogBytes)
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

        var journal = _journal ?? throw new ObjectDisposedException(nameof(FaissCollection));
        var previous = journal.Generation;
        var generation = previous + 1;
        var indexPath = IndexPath(generation);
        _native.Write(_index, indexPath + ".tmp");
        AtomicFile.Commit(indexPath + ".tmp", indexPath);

        // The journal's compaction fsyncs the folder after its own rename, which makes the index file's rename durable too.
        journal.Compact(_points.Count, snapshot =>
        {
            using var buffer = new MemoryStream();
            using var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true);
            void Frame()
            {
                writer.Flush();
                snapshot.Write(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
                buffer.SetLength(0);
            }

            writer.Write(SnapshotStateRecord);
            writer.Write(_nextFaissId);
            writer.Write(_tombstones.Count);
            foreach (var id in _tombstones)
            {
                writer.Write(id);
            }

            Frame();
            foreach (var chunk in _points.Values.OrderBy(p => p.FaissId).Chunk(SnapshotPointsPerFrame))
            {
                writer.Write(UpsertRecord);
                writer.Write(chunk.Length);
                foreach (var point in chunk)
                {
                    PointCodec.Write(writer, point);
                }

                Frame();
            }
        });

        // From here the snapshot of this generation holds everything; the older index file is not needed.
        File.Delete(IndexPath(previous));
        _dirty = false;
    }

    private string IndexPath(long generation) => Path.Combine(_directory, $"index.{generation}.faiss");

    private JournalOptions JournalSettings(Action<long>? onSnapshotLoaded) => new()
    {
        Tag = Dimensions,
        FlushToDisk = _options.FlushToDisk,
        LegacyFiles = [LegacySnapshotFile, LegacyLogFile],
        OnSnapshotLoaded = onSnapshotLoaded,
    };

    /// <summary>One record: the type byte, then its fields. A crash mid-write leaves a torn tail that the journal drops.</summary>
    private long AppendLog(byte type, Action<BinaryWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(type);
            body(writer);
        }

        var journal = _journal ?? throw new ObjectDisposedException(nameof(FaissCollection));
        var start = journal.LogPosition;
        journal.Append(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        return start;
    }

    private void Load()
    {
        _journal = Journal.Open(_directory, JournalSettings(LoadIndex), Replay, _logger);
        if (_journal.MigrationPending)
        {
            _journal.SetMigratedGeneration(LoadLegacy());
            _dirty = true;
            CheckpointLocked();
        }

        // Index files of other generations: a checkpoint that wrote its index but crashed before its snapshot.
        foreach (var stale in Directory.EnumerateFiles(_directory, "index.*.faiss*").Where(f => f != IndexPath(_journal.Generation)))
        {
            File.Delete(stale);
        }
    }

    private void Replay(ReadOnlySpan<byte> body, JournalPart part)
    {
        using var reader = new BinaryReader(new MemoryStream(body.ToArray()), System.Text.Encoding.UTF8);
        var type = reader.ReadByte();
        if (part == JournalPart.Log)
        {
            ApplyRecord(type, reader);
        }
        else if (type == SnapshotStateRecord)
        {
            _nextFaissId = reader.ReadInt64();
            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                _tombstones.Add(reader.ReadInt64());
            }
        }
        else if (type == UpsertRecord)
        {
            // The snapshot's points only: the index file of the same generation already holds their vectors.
            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                AddStored(PointCodec.Read(reader));
            }
        }
        else
        {
            throw new InvalidDataException($"Unknown snapshot record type {type} in {_directory}.");
        }
    }

    private void AddStored(StoredPoint point)
    {
        _points[point.Id] = point;
        _byFaissId[point.FaissId] = point;
    }

    /// <summary>Opens the index file of the snapshot's generation, or builds one from the stored vectors.</summary>
    private void LoadIndex(long generation)
    {
        var indexPath = IndexPath(generation);
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
    }

    /// <summary>
    /// Reads the files of the format before the journal: points.snap (int32 magic "RFSN", version, generation, next
    /// FAISS id, points, tombstones) and points.log (magic "RFLG", version, generation, then records
    /// <c>[int32 length][uint32 FNV-1a][body]</c>), a torn log tail ignored. Returns their generation.
    /// </summary>
    private long LoadLegacy()
    {
        long generation = 0;
        var snapshotPath = Path.Combine(_directory, LegacySnapshotFile);
        if (File.Exists(snapshotPath))
        {
            using var reader = new BinaryReader(File.OpenRead(snapshotPath), System.Text.Encoding.UTF8);
            if (reader.ReadInt32() != LegacySnapshotMagic || reader.ReadInt32() != LegacyFormatVersion)
            {
                throw new InvalidDataException($"{snapshotPath} is not a FAISS backend snapshot of this version.");
            }

            generation = reader.ReadInt64();
            _nextFaissId = reader.ReadInt64();
            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                AddStored(PointCodec.Read(reader));
            }

            for (var count = reader.ReadInt32(); count > 0; count--)
            {
                _tombstones.Add(reader.ReadInt64());
            }
        }

        LoadIndex(generation);
        var logPath = Path.Combine(_directory, LegacyLogFile);
        if (!File.Exists(logPath))
        {
            return generation;
        }

        using var log = new BinaryReader(File.OpenRead(logPath), System.Text.Encoding.UTF8);
        var length = log.BaseStream.Length;
        if (length < 16 || log.ReadInt32() != LegacyLogMagic || log.ReadInt32() != LegacyFormatVersion || log.ReadInt64() != generation)
        {
            // A log of another generation was already folded into the snapshot before it was replaced.
            return generation;
        }

        while (length - log.BaseStream.Position >= 8)
        {
            var recordLength = log.ReadInt32();
            var checksum = log.ReadUInt32();
            if (recordLength <= 0 || recordLength > length - log.BaseStream.Position)
            {
                break;
            }

            var body = log.ReadBytes(recordLength);
            if (PointCodec.Checksum(body) != checksum)
            {
                break;
            }

            using var record = new BinaryReader(new MemoryStream(body), System.Text.Encoding.UTF8);
            ApplyRecord(record.ReadByte(), record);
        }

        return generation;
    }

    private void ApplyRecord(byte type, BinaryReader reader)
    {
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
            throw new InvalidDataException($"Unknown record type {type} in the log of {_directory}.");
        }
    }
}
