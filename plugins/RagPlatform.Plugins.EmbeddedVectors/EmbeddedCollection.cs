using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Storage;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// One collection: every vector in one contiguous <see cref="VectorStore"/>, the payloads in a parallel slot
/// array, and the files that make both durable.
/// <para>
/// Locking: writers queue on <see cref="_writeGate"/> (async-friendly, held across the log write), and only
/// take the reader-writer lock's write side for the short in-memory apply, so searches keep running while a
/// batch is serialised and written. Anything that only reads state under the gate (snapshotting, sizing)
/// needs no lock: nothing else mutates it.
/// </para>
/// </summary>
internal sealed class EmbeddedCollection : IDisposable
{
    public const string SpecFileName = "collection.json";
    public const string SnapshotFileName = Journal.SnapshotFileName;
    public const string LogFileName = Journal.LogFileName;

    // The files before the journal: the same frames, headers with magics RAGVSNP1/RAGVLOG1.
    private const string LegacySnapshotFileName = "snapshot.bin";
    private const string LegacyLogFileName = "log.bin";

    /// <summary>A write batch or snapshot is cut into frames of about this size.</summary>
    private const int FrameTargetBytes = 8 << 20;

    /// <summary>Scratch kept between writes; a typical batch (256 points of 1024 dimensions) fits.</summary>
    private const int RetainedWriterBytes = 4 << 20;

    /// <summary>Slots left empty by deletes are squeezed out once there are this many and they are half the store.</summary>
    private const int PackMinimumFreeSlots = 4096;

    private const int StateOpen = 0;
    private const int StateClosed = 1;
    private const int StateDropped = 2;

    private readonly EmbeddedVectorOptions _options;
    private readonly ILogger _logger;
    private readonly int _dimensions;
    private readonly DistanceMetric _metric;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Lock _loadLock = new();
    private volatile bool _loaded;
    private volatile int _state = StateOpen;

    // The store. Slots below _highWater are live or listed in _freeSlots (every free slot is below it).
    private VectorStore _store;
    private StoredPoint?[] _points = [];
    private int _highWater;
    private readonly Stack<int> _freeSlots = new();
    private readonly Dictionary<string, int> _slotById = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _idsByDocument = new(StringComparer.Ordinal);

    // Persistence; touched only under the write gate (or while loading).
    private Journal? _journal;
    private bool _faulted;
    private readonly SearchBatcher? _batcher;
    private readonly RecordWriter _writer = new();
    private readonly JsonScratch _jsonScratch = new();
    private readonly FrameMetadata _frameMetadata = new();
    private readonly List<PendingPoint> _pendingPayloads = [];
    private readonly List<StoredPoint> _pendingPoints = [];
    private readonly List<int> _pendingVectorOffsets = [];

    public EmbeddedCollection(VectorCollectionSpec spec, string directory, EmbeddedVectorOptions options, ILogger logger)
    {
        Spec = spec;
        Directory = directory;
        _options = options;
        _logger = logger;
        _dimensions = spec.Dimensions;
        _metric = spec.Metric;
        _store = NewStore();
        // Euclidean scores are distances, which the dot-product batch kernel does not compute.
        _batcher = options.BatchConcurrentSearches && spec.Metric != DistanceMetric.Euclidean ? new SearchBatcher(this) : null;
    }

    public VectorCollectionSpec Spec { get; }

    public string Directory { get; }

    /// <summary>The coalescer of concurrent searches; null when batching is off or the metric is Euclidean.</summary>
    internal SearchBatcher? Batcher => _batcher;

    /// <summary>Holds the write lock on the calling thread, so that tests can make searches wait where they choose.</summary>
    internal void EnterWriteLockForTests() => _lock.EnterWriteLock();

    internal void ExitWriteLockForTests() => _lock.ExitWriteLock();

    /// <summary>Bytes in the log file, header included (for tests and diagnostics).</summary>
    internal long LogLength => _journal is null ? 0 : Journal.HeaderSize + _journal.LogBytes;

    // ---- spec file -------------------------------------------------------------------------------------

    public static void WriteSpec(string directory, VectorCollectionSpec spec)
    {
        var path = Path.Combine(directory, SpecFileName);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                json.WriteNumber("formatVersion", RecordFile.SpecFormatVersion);
                json.WriteString("name", spec.Name);
                json.WriteNumber("dimensions", spec.Dimensions);
                json.WriteString("metric", spec.Metric.ToString());
                json.WriteString("fingerprint", spec.Fingerprint.ToString());
                json.WriteEndObject();
            }

            file.Flush(flushToDisk: true);
        }
    }

    public static VectorCollectionSpec ReadSpec(string directory)
    {
        var path = Path.Combine(directory, SpecFileName);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        var version = root.GetProperty("formatVersion").GetInt32();
        if (version != RecordFile.SpecFormatVersion)
        {
            throw new InvalidDataException($"'{path}' has format version {version}; this build reads {RecordFile.SpecFormatVersion}.");
        }

        return new VectorCollectionSpec(
            root.GetProperty("name").GetString() ?? throw new InvalidDataException($"'{path}' has no name."),
            root.GetProperty("dimensions").GetInt32(),
            Enum.Parse<DistanceMetric>(root.GetProperty("metric").GetString() ?? string.Empty),
            ModelFingerprint.Parse(root.GetProperty("fingerprint").GetString() ?? string.Empty));
    }

    // ---- reads -----------------------------------------------------------------------------------------

    public long Count(VectorFilter? filter)
    {
        var compiled = CompiledFilter.Compile(filter);
        EnsureLoaded();
        _lock.EnterReadLock();
        try
        {
            ThrowIfUnavailable();
            if (compiled is null)
            {
                return _slotById.Count;
            }

            long count = 0;
            var points = _points;
            for (var slot = 0; slot < _highWater; slot++)
            {
                var point = points[slot];
                if (point is not null && compiled.Matches(point))
                {
                    count++;
                }
            }

            return count;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Searches, coalescing with the searches that arrive while one is scanning when
    /// <see cref="EmbeddedVectorOptions.BatchConcurrentSearches"/> is on (see <see cref="SearchBatcher"/>).
    /// </summary>
    public Task<IReadOnlyList<VectorSearchHit>> SearchAsync(VectorQuery query, CancellationToken cancellationToken)
    {
        var search = Prepare(query);
        return _batcher is null
            ? Task.FromResult(Search(search, cancellationToken))
            : _batcher.SearchAsync(search, cancellationToken);
    }

    /// <summary>One search, scanned on its own.</summary>
    public IReadOnlyList<VectorSearchHit> Search(VectorQuery query, CancellationToken cancellationToken) =>
        Search(Prepare(query), cancellationToken);

    /// <summary>Checks a query and puts it in the form the scan takes (a unit vector for cosine).</summary>
    private PreparedSearch Prepare(VectorQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Vector is null)
        {
            throw new InvalidVectorException("The query has no vector.");
        }

        VectorMath.Validate(query.Vector, _dimensions, "query");
        ArgumentOutOfRangeException.ThrowIfNegative(query.TopK);
        var filter = CompiledFilter.Compile(query.Filter);
        var target = query.Vector;
        if (_metric == DistanceMetric.Cosine)
        {
            // Stored vectors are unit length, so the dot with a unit query is the cosine.
            target = (float[])target.Clone();
            VectorMath.NormalizeInPlace(target);
        }

        return new PreparedSearch(target, query.TopK, filter);
    }

    internal IReadOnlyList<VectorSearchHit> Search(PreparedSearch search, CancellationToken cancellationToken)
    {
        EnsureLoaded();
        cancellationToken.ThrowIfCancellationRequested();
        _lock.EnterReadLock();
        try
        {
            ThrowIfUnavailable();
            var k = Math.Min(search.TopK, _slotById.Count);
            if (k == 0)
            {
                return [];
            }

            var points = _points;
            var store = _store;
            var highWater = _highWater;
            var partitions = _slotById.Count > _options.ParallelSearchThreshold ? Environment.ProcessorCount : 1;
            var best = new TopKCollector(k, points);
            if (partitions <= 1)
            {
                Scan(0, highWater, search.Target, search.Filter, points, store, best);
            }
            else
            {
                // The calling thread holds the read lock for the workers: writers wait until all are done.
                var partial = new TopKCollector[partitions];
                var size = (highWater + partitions - 1) / partitions;
                Parallel.For(
                    0,
                    partitions,
                    new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = partitions },
                    p =>
                    {
                        var collector = new TopKCollector(k, points);
                        var start = Math.Min(p * size, highWater);
                        Scan(start, Math.Min(start + size, highWater), search.Target, search.Filter, points, store, collector);
                        partial[p] = collector;
                    });
                foreach (var collector in partial)
                {
                    best.OfferAll(collector);
                }
            }

            return Hits(best, points);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Answers several searches in one pass over the store: each tile of rows is loaded once and scored
    /// against every query (<see cref="DotKernel.ScoreMany"/>), then each query keeps its own top-k under
    /// its own filter. Not for Euclidean collections (the batcher is off there).
    /// </summary>
    internal IReadOnlyList<VectorSearchHit>[] SearchMany(IReadOnlyList<PreparedSearch> searches)
    {
        EnsureLoaded();
        _lock.EnterReadLock();
        try
        {
            ThrowIfUnavailable();
            var results = new IReadOnlyList<VectorSearchHit>[searches.Count];
            var active = new List<int>(searches.Count);
            for (var i = 0; i < searches.Count; i++)
            {
                if (Math.Min(searches[i].TopK, _slotById.Count) == 0)
                {
                    results[i] = [];
                }
                else
                {
                    active.Add(i);
                }
            }

            if (active.Count == 0)
            {
                return results;
            }

            var queries = new float[active.Count * _dimensions];
            var batch = new PreparedSearch[active.Count];
            for (var q = 0; q < active.Count; q++)
            {
                batch[q] = searches[active[q]];
                batch[q].Target.CopyTo(queries, q * _dimensions);
            }

            var points = _points;
            var store = _store;
            var highWater = _highWater;
            var live = _slotById.Count;
            var partitions = live > _options.ParallelSearchThreshold ? Environment.ProcessorCount : 1;
            var partial = new TopKCollector[partitions][];
            var size = (highWater + partitions - 1) / partitions;
            if (partitions <= 1)
            {
                partial[0] = ScanMany(0, highWater, queries, batch, live, points, store);
            }
            else
            {
                Parallel.For(
                    0,
                    partitions,
                    new ParallelOptions { MaxDegreeOfParallelism = partitions },
                    p =>
                    {
                        var start = Math.Min(p * size, highWater);
                        partial[p] = ScanMany(start, Math.Min(start + size, highWater), queries, batch, live, points, store);
                    });
            }

            for (var q = 0; q < batch.Length; q++)
            {
                var best = partial[0][q];
                for (var p = 1; p < partitions; p++)
                {
                    best.OfferAll(partial[p][q]);
                }

                results[active[q]] = Hits(best, points);
            }

            return results;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private static VectorSearchHit[] Hits(TopKCollector best, StoredPoint?[] points)
    {
        var ranked = best.DrainBestFirst();
        var hits = new VectorSearchHit[ranked.Length];
        for (var i = 0; i < ranked.Length; i++)
        {
            var point = points[ranked[i].Slot]!;
            hits[i] = new VectorSearchHit(point.Id, ranked[i].Score, point.Payload);
        }

        return hits;
    }

    public IReadOnlyList<VectorPoint> Retrieve(IReadOnlyList<string> pointIds)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        EnsureLoaded();
        _lock.EnterReadLock();
        try
        {
            ThrowIfUnavailable();
            var result = new List<VectorPoint>(Math.Min(pointIds.Count, _slotById.Count));
            HashSet<string>? seen = pointIds.Count > 1 ? new(StringComparer.Ordinal) : null;
            for (var i = 0; i < pointIds.Count; i++)
            {
                var id = pointIds[i];
                if (id is null || !_slotById.TryGetValue(id, out var slot) || (seen is not null && !seen.Add(id)))
                {
                    continue;
                }

                var point = _points[slot]!;
                result.Add(new VectorPoint(point.Id, _store.Row(slot).ToArray(), point.Payload));
            }

            return result;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Every id, in ordinal order, so an export can be read in chunks and resumed by id.</summary>
    public string[] SortedIds()
    {
        EnsureLoaded();
        _lock.EnterReadLock();
        string[] ids;
        try
        {
            ThrowIfUnavailable();
            ids = [.. _slotById.Keys];
        }
        finally
        {
            _lock.ExitReadLock();
        }

        Array.Sort(ids, StringComparer.Ordinal);
        return ids;
    }

    // ---- writes ----------------------------------------------------------------------------------------

    public async Task UpsertAsync(IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        ThrowIfUnavailable();

        // Everything is checked before anything is written, so a bad point fails the batch cleanly.
        for (var i = 0; i < points.Count; i++)
        {
            var point = points[i] ?? throw new ArgumentException($"Point #{i} is null.", nameof(points));
            ValidateId(point.Id);
            if (point.Vector is null)
            {
                throw new InvalidVectorException($"Point '{point.Id}' has no vector.");
            }

            VectorMath.Validate(point.Vector, _dimensions, point.Id);
            PayloadCodec.Validate(point.Id, point.Payload);
        }

        EnsureLoaded();
        if (points.Count == 0)
        {
            ThrowIfUnavailable();
            return;
        }

        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotWritable();
            var next = 0;
            while (next < points.Count)
            {
                var end = BuildUpsertFrame(points, next);
                AppendToLog();
                ApplyPendingUpserts();
                next = end;
            }

            CompactIfLogIsLarge();
        }
        finally
        {
            _writer.Release(RetainedWriterBytes);
            _writeGate.Release();
        }
    }

    public async Task<long> DeleteAsync(IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        ThrowIfUnavailable();
        EnsureLoaded();
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotWritable();
            var existing = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var id in pointIds)
            {
                if (id is not null && _slotById.ContainsKey(id) && seen.Add(id))
                {
                    existing.Add(id);
                }
            }

            return DeleteExisting(existing);
        }
        finally
        {
            _writer.Release(RetainedWriterBytes);
            _writeGate.Release();
        }
    }

    public async Task<long> DeleteByDocumentAsync(string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ThrowIfUnavailable();
        EnsureLoaded();
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotWritable();
            return _idsByDocument.TryGetValue(documentId, out var ids) ? DeleteExisting([.. ids]) : 0;
        }
        finally
        {
            _writer.Release(RetainedWriterBytes);
            _writeGate.Release();
        }
    }

    /// <summary>Caller holds the write gate; every id exists.</summary>
    private long DeleteExisting(List<string> ids)
    {
        if (ids.Count == 0)
        {
            return 0;
        }

        var next = 0;
        long removed = 0;
        while (next < ids.Count)
        {
            _writer.Reset();
            var frame = RecordFile.BeginFrame(_writer);
            _writer.WriteByte(RecordFile.OpDelete);
            var countOffset = _writer.Reserve(sizeof(int));
            var start = next;
            do
            {
                _writer.WriteString(ids[next++]);
            }
            while (next < ids.Count && _writer.Length < FrameTargetBytes);

            BinaryPrimitives.WriteInt32LittleEndian(_writer.WrittenSpan(countOffset, sizeof(int)), next - start);
            RecordFile.EndFrame(_writer, frame);
            AppendToLog();

            _lock.EnterWriteLock();
            try
            {
                for (var i = start; i < next; i++)
                {
                    removed += ApplyDelete(ids[i]) ? 1 : 0;
                }

                PackIfSparse();
            }
            finally
            {
                _lock.ExitWriteLock();
            }
        }

        CompactIfLogIsLarge();
        return removed;
    }

    /// <summary>Serialises points from <paramref name="start"/> into one log frame; returns where it stopped.</summary>
    private int BuildUpsertFrame(IReadOnlyList<VectorPoint> points, int start)
    {
        _writer.Reset();
        _pendingPoints.Clear();
        _pendingPayloads.Clear();
        _pendingVectorOffsets.Clear();
        _frameMetadata.Reset();
        var frame = RecordFile.BeginFrame(_writer);
        _writer.WriteByte(RecordFile.OpUpsert);
        var countOffset = _writer.Reserve(sizeof(int));
        var next = start;
        do
        {
            var point = points[next++];
            _writer.WriteString(point.Id);
            _pendingVectorOffsets.Add(_writer.Length);
            // Memory is filled from these exact bytes, so a replay restores the same bits.
            var stored = _writer.ReserveFloats(_dimensions);
            if (_metric == DistanceMetric.Cosine)
            {
                NormalizeInto(point.Vector, stored);
            }
            else
            {
                point.Vector.CopyTo(stored);
            }

            _pendingPayloads.Add(PayloadCodec.Write(_writer, point.Id, point.Payload, _jsonScratch, _frameMetadata));
        }
        while (next < points.Count && _writer.Length < FrameTargetBytes);

        var metadata = _frameMetadata.Parse();
        foreach (var pending in _pendingPayloads)
        {
            _pendingPoints.Add(PayloadCodec.Complete(pending, metadata));
        }

        BinaryPrimitives.WriteInt32LittleEndian(_writer.WrittenSpan(countOffset, sizeof(int)), next - start);
        RecordFile.EndFrame(_writer, frame);
        return next;
    }

    private void ApplyPendingUpserts()
    {
        var written = _writer.Written;
        _lock.EnterWriteLock();
        try
        {
            for (var i = 0; i < _pendingPoints.Count; i++)
            {
                var vector = MemoryMarshal.Cast<byte, float>(written.Slice(_pendingVectorOffsets[i], _dimensions * sizeof(float)));
                ApplyUpsert(_pendingPoints[i], vector);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        _pendingPoints.Clear();
    }

    private void AppendToLog()
    {
        var journal = _journal ?? throw new ObjectDisposedException(nameof(EmbeddedVectorBackend));
        try
        {
            journal.AppendFrames(_writer.Written);
        }
        finally
        {
            // A write the journal could not roll back leaves the log in doubt: stop writing until restart.
            _faulted |= journal.Faulted;
        }
    }

    // ---- the in-memory store (callers hold the write lock, or are loading) ------------------------------

    private void ApplyUpsert(StoredPoint point, ReadOnlySpan<float> vector)
    {
        if (_slotById.TryGetValue(point.Id, out var slot))
        {
            var previous = _points[slot]!;
            if (!string.Equals(previous.Payload.DocumentId, point.Payload.DocumentId, StringComparison.Ordinal))
            {
                RemoveFromDocument(previous);
                AddToDocument(point);
            }
        }
        else
        {
            if (_freeSlots.Count > 0)
            {
                slot = _freeSlots.Pop();
            }
            else
            {
                if (_highWater == _points.Length)
                {
                    Grow(_highWater + 1);
                }

                slot = _highWater++;
            }

            _slotById.Add(point.Id, slot);
            AddToDocument(point);
        }

        _store.Write(slot, vector);
        _points[slot] = point;
    }

    private bool ApplyDelete(string id)
    {
        if (!_slotById.Remove(id, out var slot))
        {
            return false;
        }

        RemoveFromDocument(_points[slot]!);
        _points[slot] = null;
        if (slot == _highWater - 1)
        {
            _highWater--;
        }
        else
        {
            _freeSlots.Push(slot);
        }

        return true;
    }

    private void AddToDocument(StoredPoint point)
    {
        if (!_idsByDocument.TryGetValue(point.Payload.DocumentId, out var ids))
        {
            ids = new HashSet<string>(StringComparer.Ordinal);
            _idsByDocument.Add(point.Payload.DocumentId, ids);
        }

        ids.Add(point.Id);
    }

    private void RemoveFromDocument(StoredPoint point)
    {
        if (_idsByDocument.TryGetValue(point.Payload.DocumentId, out var ids) && ids.Remove(point.Id) && ids.Count == 0)
        {
            _idsByDocument.Remove(point.Payload.DocumentId);
        }
    }

    /// <summary>Room for at least <paramref name="required"/> slots. Caller holds the write lock (or is loading).</summary>
    private void Grow(int required)
    {
        if (required > Array.MaxLength)
        {
            throw new InvalidOperationException($"Collection '{Spec.Name}' cannot hold more than {Array.MaxLength} points.");
        }

        _store.EnsureCapacity(required);
        if (_store.Capacity > _points.Length)
        {
            Array.Resize(ref _points, _store.Capacity);
        }
    }

    /// <summary>After heavy deletes, moves live points down over the holes so scans stop walking empty slots.</summary>
    private void PackIfSparse()
    {
        if (_freeSlots.Count < PackMinimumFreeSlots || _freeSlots.Count * 2 < _highWater)
        {
            return;
        }

        var target = 0;
        for (var source = 0; source < _highWater; source++)
        {
            var point = _points[source];
            if (point is null)
            {
                continue;
            }

            if (source != target)
            {
                _store.Move(source, target);
                _points[target] = point;
                _slotById[point.Id] = target;
            }

            target++;
        }

        Array.Clear(_points, target, _highWater - target);
        _highWater = target;
        _freeSlots.Clear();
    }

    private VectorStore NewStore() =>
        new(_dimensions, _options.BFloat16Prefilter && _metric != DistanceMetric.Euclidean && DotKernel.IsAccelerated);

    private void ClearStore()
    {
        _store.Dispose();
        _store = NewStore();
        _points = [];
        _highWater = 0;
        _freeSlots.Clear();
        _slotById.Clear();
        _idsByDocument.Clear();
    }

    private void Scan(
        int start,
        int end,
        float[] target,
        CompiledFilter? filter,
        StoredPoint?[] points,
        VectorStore store,
        TopKCollector collector)
    {
        if (_metric == DistanceMetric.Euclidean)
        {
            var query = new ReadOnlySpan<float>(target);
            for (var slot = start; slot < end; slot++)
            {
                var point = points[slot];
                if (point is null || (filter is not null && !filter.Matches(point)))
                {
                    continue;
                }

                collector.Offer(-TensorPrimitives.Distance(query, store.Row(slot)), slot);
            }

            return;
        }

        ScanDot(start, end, target, filter, points, store, collector);
    }

    /// <summary>
    /// Dot-product scan of one query: a tile of rows is scored in one kernel call, then only the rows that
    /// beat the current k-th best are looked at (deleted slots and filters are checked for those alone).
    /// </summary>
    private unsafe void ScanDot(
        int start,
        int end,
        float[] target,
        CompiledFilter? filter,
        StoredPoint?[] points,
        VectorStore store,
        TopKCollector collector)
    {
        if (store.HasBFloat16)
        {
            ScanDotPrefiltered(start, end, target, filter, points, store, collector);
            return;
        }

        const int tile = DotKernel.TileRows * 4;
        var scores = stackalloc float[tile];
        fixed (float* query = target)
        {
            for (var first = start; first < end; first += tile)
            {
                var count = Math.Min(tile, end - first);
                DotKernel.Score(query, store.RowPointer(first), _dimensions, count, scores);
                Collect(scores, count, first, filter, points, collector);
            }
        }
    }

    /// <summary>
    /// <see cref="ScanDot"/> in two passes that read half the bytes. First every row is scored from the bfloat16
    /// copy; that score a differs from the exact one s by at most B = (2^-7 + 2γ)·|q|·|x| (truncating a float to
    /// its upper 16 bits changes it by less than 2^-7 of itself, and both sums round by at most γ = d·2^-24
    /// relative), so s ≥ a − B for every row and the k-th largest a − B among the eligible rows is a floor τ
    /// under the k-th best exact score. Then only the rows with a + B ≥ τ can be in the top k, and those alone are
    /// scored exactly from the floats (by the same kernel as the plain scan, so with the same bits) and offered.
    /// </summary>
    private unsafe void ScanDotPrefiltered(
        int start,
        int end,
        float[] target,
        CompiledFilter? filter,
        StoredPoint?[] points,
        VectorStore store,
        TopKCollector collector)
    {
        const int tile = DotKernel.TileRows * 4;
        var rows = end - start;
        if (rows <= 0)
        {
            return;
        }

        double squares = 0;
        foreach (var value in target)
        {
            squares += (double)value * value;
        }

        var queryNorm = Math.Sqrt(squares) * (1 + 1e-6);
        // The 1% covers the rounding of a ± B itself; the absolute term, subnormal floats (whose truncation error is not relative).
        var errorPerNorm = (float)(((1.0 / 128) + (3.0 * _dimensions / (1 << 24))) * 1.01 * queryNorm);
        var errorFloor = (float)((queryNorm + 1) * Math.Pow(2, -120));
        var norms = store.Norms;
        var approximate = System.Buffers.ArrayPool<float>.Shared.Rent(rows);
        try
        {
            var kth = new KthLargest(collector.Capacity);
            var floor = kth.Floor;
            fixed (float* query = target)
            fixed (float* scores = approximate)
            {
                for (var first = start; first < end; first += tile)
                {
                    var count = Math.Min(tile, end - first);
                    var tileScores = scores + (first - start);
                    DotKernel.ScoreBFloat16(query, store.HighPointer(first), _dimensions, count, tileScores);
                    for (var i = 0; i < count; i++)
                    {
                        var lower = tileScores[i] - ((errorPerNorm * norms[first + i]) + errorFloor);
                        if (!(lower > floor))
                        {
                            continue;
                        }

                        var point = points[first + i];
                        if (point is null || (filter is not null && !filter.Matches(point)))
                        {
                            continue;
                        }

                        kth.Add(lower);
                        floor = kth.Floor;
                    }
                }

                var threshold = collector.Threshold;
                for (var i = 0; i < rows; i++)
                {
                    var slot = start + i;
                    var upper = scores[i] + ((errorPerNorm * norms[slot]) + errorFloor);
                    if (upper < floor || upper < threshold)
                    {
                        continue;
                    }

                    var point = points[slot];
                    if (point is null || (filter is not null && !filter.Matches(point)))
                    {
                        continue;
                    }

                    float exact;
                    DotKernel.Score(query, store.RowPointer(slot), _dimensions, 1, &exact);
                    collector.Offer(exact, slot);
                    threshold = collector.Threshold;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(approximate);
        }
    }

    /// <summary>One partition of <see cref="SearchMany"/>: every query's own top-k over rows [start, end).</summary>
    private unsafe TopKCollector[] ScanMany(
        int start,
        int end,
        float[] queries,
        PreparedSearch[] batch,
        int live,
        StoredPoint?[] points,
        VectorStore store)
    {
        const int tile = DotKernel.TileRows;
        var collectors = new TopKCollector[batch.Length];
        for (var q = 0; q < batch.Length; q++)
        {
            collectors[q] = new TopKCollector(Math.Min(batch[q].TopK, live), points);
        }

        var scores = new float[batch.Length * tile];
        fixed (float* queryBlock = queries)
        fixed (float* scoreBlock = scores)
        {
            for (var first = start; first < end; first += tile)
            {
                var count = Math.Min(tile, end - first);
                DotKernel.ScoreMany(queryBlock, batch.Length, store.RowPointer(first), _dimensions, count, scoreBlock, tile);
                for (var q = 0; q < batch.Length; q++)
                {
                    Collect(scoreBlock + (q * tile), count, first, batch[q].Filter, points, collectors[q]);
                }
            }
        }

        return collectors;
    }

    private static unsafe void Collect(float* scores, int count, int first, CompiledFilter? filter, StoredPoint?[] points, TopKCollector collector)
    {
        var threshold = collector.Threshold;
        for (var i = 0; i < count; i++)
        {
            var score = scores[i];
            if (score < threshold)
            {
                continue;
            }

            var point = points[first + i];
            if (point is null || (filter is not null && !filter.Matches(point)))
            {
                continue;
            }

            collector.Offer(score, first + i);
            threshold = collector.Threshold;
        }
    }

    // ---- persistence -----------------------------------------------------------------------------------

    private void EnsureLoaded()
    {
        if (_loaded)
        {
            return;
        }

        lock (_loadLock)
        {
            if (_loaded)
            {
                return;
            }

            ThrowIfUnavailable();
            try
            {
                Load();
            }
            catch
            {
                ClearStore();
                _journal?.Dispose();
                _journal = null;
                throw;
            }

            _loaded = true;
        }
    }

    private void Load()
    {
        var started = Environment.TickCount64;
        var frames = 0;
        _journal = Journal.Open(Directory,
            new JournalOptions
            {
                Tag = _dimensions,
                FlushToDisk = _options.FlushToDisk,
                LegacyFiles = [LegacySnapshotFileName, LegacyLogFileName],
                OnSnapshotCount = count =>
                {
                    if (count > 0)
                    {
                        Grow(checked((int)count));
                    }
                },
            },
            (body, part) =>
            {
                if (part == JournalPart.Log)
                {
                    frames++;
                }

                CheckEnd(ApplyFrame(body, part.ToString()), part);
            },
            _logger);
        if (_journal.MigrationPending)
        {
            LoadLegacy();
            WriteSnapshot();
        }

        PackIfSparse();
        _logger.LogInformation("Loaded collection '{Collection}': {Points} points, {Frames} log frames replayed, in {Milliseconds} ms.", Spec.Name, _slotById.Count, frames, Environment.TickCount64 - started);
    }

    private void CheckEnd(long? endCount, JournalPart part)
    {
        if (endCount is { } count && (part != JournalPart.Snapshot || count != _slotById.Count))
        {
            throw new InvalidDataException($"The {part} of collection '{Spec.Name}' does not add up: {_slotById.Count} points read, {count} recorded.");
        }
    }

    /// <summary>
    /// Reads the files written before the journal (<c>snapshot.bin</c>, <c>log.bin</c>): journal frames behind a
    /// header with the magics <c>RAGVSNP1</c>/<c>RAGVLOG1</c>, version 1, the dimensions, generation and point count.
    /// A log of another generation than the snapshot's is already inside it; a torn log tail is ignored.
    /// </summary>
    private void LoadLegacy()
    {
        var buffer = new byte[1 << 16];
        long? snapshotGeneration = null;
        foreach (var (name, magic) in new[] { (LegacySnapshotFileName, "RAGVSNP1"u8.ToArray()), (LegacyLogFileName, "RAGVLOG1"u8.ToArray()) })
        {
            var path = Path.Combine(Directory, name);
            if (!File.Exists(path))
            {
                continue;
            }

            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var length = RandomAccess.GetLength(file);
            var header = new byte[Journal.HeaderSize];
            if (length < Journal.HeaderSize || !Journal.ReadExactly(file, header, 0) || !header.AsSpan(0, 8).SequenceEqual(magic)
                || BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8)) != 1)
            {
                if (name == LegacySnapshotFileName)
                {
                    throw new InvalidDataException($"'{path}' is not an embedded vector store file.");
                }

                continue;
            }

            if (BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12)) != _dimensions)
            {
                throw new InvalidDataException($"'{path}' holds vectors of other dimensions than the collection's {_dimensions}.");
            }

            var generation = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16));
            var isSnapshot = name == LegacySnapshotFileName;
            if (isSnapshot)
            {
                snapshotGeneration = generation;
            }
            else if (generation != (snapshotGeneration ?? 0))
            {
                continue;
            }

            long offset = Journal.HeaderSize;
            while (Journal.TryReadFrame(file, offset, length, ref buffer) is var bodyLength and >= 0)
            {
                CheckEnd(ApplyFrame(buffer.AsSpan(0, bodyLength), name), isSnapshot ? JournalPart.Snapshot : JournalPart.Log);
                offset += Journal.FrameHeaderSize + bodyLength;
            }

            if (isSnapshot && offset != length)
            {
                throw new InvalidDataException($"Snapshot '{path}' is damaged at byte {offset}.");
            }
        }
    }

    /// <summary>Applies one frame; returns the recorded point count when it is the end-of-snapshot frame.</summary>
    private long? ApplyFrame(ReadOnlySpan<byte> body, string source)
    {
        var reader = new RecordReader(body);
        long? endCount = null;
        var op = reader.ReadByte();
        switch (op)
        {
            case RecordFile.OpUpsert:
            {
                // Decoded first, applied once the frame's metadata is parsed in one go.
                var count = reader.ReadInt32();
                var pending = new List<(PendingPoint Payload, int VectorOffset)>(Math.Min(count, 1 << 16));
                _frameMetadata.Reset();
                for (var i = 0; i < count; i++)
                {
                    var id = reader.ReadString();
                    var vectorOffset = reader.Position;
                    _ = reader.ReadFloats(_dimensions);
                    pending.Add((PayloadCodec.Read(ref reader, id, _frameMetadata), vectorOffset));
                }

                var metadata = _frameMetadata.Parse();
                foreach (var (payload, vectorOffset) in pending)
                {
                    var vector = MemoryMarshal.Cast<byte, float>(body.Slice(vectorOffset, _dimensions * sizeof(float)));
                    ApplyUpsert(PayloadCodec.Complete(payload, metadata), vector);
                }

                break;
            }

            case RecordFile.OpDelete:
                for (var count = reader.ReadInt32(); count > 0; count--)
                {
                    ApplyDelete(reader.ReadString());
                }

                break;
            case RecordFile.OpEnd:
                endCount = reader.ReadInt64();
                break;
            default:
                throw new InvalidDataException($"Unknown record type {op} in {source} of collection '{Spec.Name}'.");
        }

        if (!reader.AtEnd)
        {
            throw new InvalidDataException($"A record in {source} of collection '{Spec.Name}' has trailing bytes.");
        }

        return endCount;
    }

    private void CompactIfLogIsLarge()
    {
        if (_journal is null || _journal.LogBytes <= _options.CompactAfterLogBytes)
        {
            return;
        }

        try
        {
            WriteSnapshot();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The log still holds everything; the next write tries again.
            _logger.LogWarning(e, "Compaction of {Directory} failed; the log keeps growing until it succeeds.", Directory);
        }
    }

    /// <summary>
    /// Writes the whole collection to a new snapshot and empties the log, through the journal's compaction (temp
    /// file, fsync, rename, folder fsync, log reset). Caller holds the write gate.
    /// </summary>
    private void WriteSnapshot()
    {
        var started = Environment.TickCount64;
        var journal = _journal ?? throw new ObjectDisposedException(nameof(EmbeddedVectorBackend));
        var count = _slotById.Count;
        try
        {
            journal.Compact(count, snapshot =>
            {
                var slot = 0;
                while (slot < _highWater)
                {
                    _writer.Reset();
                    var frame = RecordFile.BeginFrame(_writer);
                    _writer.WriteByte(RecordFile.OpUpsert);
                    var countOffset = _writer.Reserve(sizeof(int));
                    var inFrame = 0;
                    for (; slot < _highWater && _writer.Length < FrameTargetBytes; slot++)
                    {
                        var point = _points[slot];
                        if (point is null)
                        {
                            continue;
                        }

                        _writer.WriteString(point.Id);
                        _writer.WriteFloats(_store.Row(slot));
                        PayloadCodec.WriteStored(_writer, point, _jsonScratch);
                        inFrame++;
                    }

                    if (inFrame > 0)
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(_writer.WrittenSpan(countOffset, sizeof(int)), inFrame);
                        RecordFile.EndFrame(_writer, frame);
                        snapshot.WriteFrames(_writer.Written);
                    }
                }

                _writer.Reset();
                var end = RecordFile.BeginFrame(_writer);
                _writer.WriteByte(RecordFile.OpEnd);
                _writer.WriteInt64(count);
                RecordFile.EndFrame(_writer, end);
                snapshot.WriteFrames(_writer.Written);
            });
        }
        finally
        {
            _faulted |= journal.Faulted;
        }

        _logger.LogInformation("Snapshotted collection '{Collection}' ({Points} points, generation {Generation}) in {Milliseconds} ms.", Spec.Name, count, journal.Generation, Environment.TickCount64 - started);
    }

    // ---- lifetime --------------------------------------------------------------------------------------

    /// <summary>Snapshots pending log records and releases the files; later calls see a disposed backend.</summary>
    public async Task CloseAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            if (_state != StateOpen)
            {
                return;
            }

            if (_loaded && _journal is not null && !_faulted && _journal.LogBytes > 0)
            {
                try
                {
                    WriteSnapshot();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _logger.LogWarning(e, "Final snapshot of {Directory} failed; the log will be replayed at the next open.", Directory);
                }
            }

            SetState(StateClosed);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Marks the collection deleted (later calls report it missing) and releases its files.</summary>
    public async Task DropAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            SetState(StateDropped);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Releases the files without a final snapshot, as a crash would leave them.</summary>
    internal void Abandon() => SetState(StateClosed);

    public void Dispose()
    {
        SetState(StateClosed);
        _jsonScratch.Dispose();
    }

    private void SetState(int state)
    {
        _lock.EnterWriteLock();
        try
        {
            if (_state == StateOpen)
            {
                _state = state;
            }

            // Every later reader sees the state change before it could touch the store, so freeing is safe.
            ClearStore();
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        lock (_loadLock)
        {
            _journal?.Dispose();
            _journal = null;
        }
    }

    private void ThrowIfUnavailable()
    {
        switch (_state)
        {
            case StateDropped:
                throw new VectorCollectionNotFoundException(Spec.Name);
            case StateClosed:
                throw new ObjectDisposedException(nameof(EmbeddedVectorBackend));
        }
    }

    private void ThrowIfNotWritable()
    {
        ThrowIfUnavailable();
        if (_faulted)
        {
            throw new IOException($"Collection '{Spec.Name}' stopped accepting writes after a storage error; restart to recover from its files.");
        }
    }

    /// <summary>
    /// Writes <paramref name="source"/> scaled to unit length, in one pass over each. A zero vector stays
    /// zero; one whose norm overflows float is brought into range first instead of being left unscaled.
    /// </summary>
    private static void NormalizeInto(ReadOnlySpan<float> source, Span<float> destination)
    {
        var norm = TensorPrimitives.Norm(source);
        if (norm > 0f && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(source, norm, destination);
            return;
        }

        source.CopyTo(destination);
        if (norm > 0f)
        {
            TensorPrimitives.Divide(destination, TensorPrimitives.MaxMagnitude(destination), destination);
            TensorPrimitives.Divide(destination, TensorPrimitives.Norm(destination), destination);
        }
    }

    private static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id))
        {
            throw new ArgumentException("A point id must not be empty.");
        }

        if (!ReferenceEquals(PayloadCodec.Canonical(id), id))
        {
            throw new ArgumentException($"Point id '{id}' is not valid UTF-16 (a lone surrogate).");
        }
    }
}
