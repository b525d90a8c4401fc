using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Qdrant.Client;
using Qdrant.Client.Grpc;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>
/// <see cref="IVectorBackend"/> over Qdrant's gRPC API through Qdrant.Client. One Qdrant collection per RagPlatform
/// collection, with a named dense vector and a named sparse vector (Qdrant's IDF modifier) that holds the chunk's
/// BM25 term weights (<see cref="Bm25TermWeights"/>), so lexical and hybrid searches run inside Qdrant
/// (<see cref="IHybridSearchBackend"/>: the Query API's prefetch of both sides, fused by RRF, filters on both) and the
/// collection needs no separate lexical index. The model fingerprint, the BM25 average length and the analyzer that
/// cut the sparse vectors' terms live in the collection's metadata; tags, document id and metadata terms have keyword
/// payload indexes. Aliases switch
/// readers atomically (<see cref="SwitchAliasAsync"/>); snapshots back a collection up (<see cref="CreateSnapshotAsync"/>).
/// </summary>
public sealed class QdrantVectorBackend : IVectorBackend, IHybridSearchBackend, IActiveCollectionAware
{
    internal const string FingerprintKey = "rag_fingerprint";
    internal const string AverageLengthKey = "rag_bm25_average_length";
    internal const string SampleKey = "rag_bm25_sample_chunks";

    // The analyzer (LexicalAnalysis.AnalyzerId) whose terms the sparse vectors hold. Collection metadata (Qdrant 1.16+,
    // which this plugin already needs for the fingerprint) rather than a reserved marker point: it is set in the same
    // CreateCollection request that makes the collection, comes back with the GetCollectionInfo call the fingerprint is
    // already read from, travels in snapshots, and merges key by key on update, so it can never be searched, counted,
    // exported or deleted with the chunks as a marker point would be.
    internal const string AnalyzerKey = "rag_lexical_analyzer";

    // What a collection without AnalyzerKey was written with: the plugin recorded no analyzer before word terms
    // existed, so its sparse vectors hold bigrams only (PostgreSQL's schema migration 4 assumes the same).
    internal const string LegacyAnalyzer = "ko-bigram/1";

    // Weighted RRF is sent as repeated prefetches (see SearchHybridAsync); this bounds the repeats of one query.
    private const int MaxPrefetchRepeats = 16;

    private readonly QdrantOptions _options;
    private readonly LexicalAnalysis _lexical;
    private readonly GrpcChannel _channel;
    private readonly QdrantClient _client;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CollectionState> _collections = new(StringComparer.Ordinal);

    /// <param name="http">The client the gRPC channel sends with (the host's, from <see cref="PluginContext.CreateHttpClient"/>);
    /// owned by the backend. Null: a handler of the channel's own.</param>
    public QdrantVectorBackend(QdrantOptions options, ServiceConnectionString connection, LexicalAnalysis lexical, ILogger<QdrantVectorBackend> logger, HttpClient? http = null)
        : this(options, connection, lexical, (ILogger)logger, http)
    {
    }

    internal QdrantVectorBackend(QdrantOptions options, ServiceConnectionString connection, LexicalAnalysis lexical, ILogger logger, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(lexical);
        _options = options;
        _lexical = lexical;
        _logger = logger;

        if (http is not null)
        {
            // Each call has its own deadline (TimeoutSeconds); the client's must not cut in first.
            http.Timeout = Timeout.InfiniteTimeSpan;
        }

        _channel = GrpcChannel.ForAddress(connection.Endpoint, new GrpcChannelOptions
        {
            HttpClient = http,
            HttpHandler = http is null ? new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionLifetime = TimeSpan.FromMinutes(5) } : null,
            DisposeHttpClient = true,
            MaxSendMessageSize = (int)options.MaxRequestBytes,
            MaxReceiveMessageSize = (int)QdrantOptions.QdrantDefaultRequestLimitBytes * 2,
        });

        // Qdrant reads the API key from the "api-key" header of every call; it never enters a message or log here.
        var key = connection.Key;
        var invoker = key is null ? _channel.CreateCallInvoker() : _channel.Intercept(metadata =>
        {
            metadata.Add("api-key", key);
            return metadata;
        });
        // Every call goes through the one retry policy; every call here is safe to repeat (upserts and deletes by id,
        // reads), and the call's deadline (TimeoutSeconds) bounds its attempts together.
        invoker = invoker.Intercept(new RemoteRetryInterceptor(RemoteRetry.CreatePipeline(
            options.ToRetryOptions(), "Qdrant", RemoteRetryInterceptor.IsTransient, logger: logger)));
        _client = new QdrantClient(new QdrantGrpcClient(invoker), TimeSpan.FromSeconds(options.TimeoutSeconds));
    }

    // ---- collections -----------------------------------------------------------------------------------

    public async Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var existing = await GetCollectionAsync(spec.Name, cancellationToken);
        if (existing is null)
        {
            var create = new CreateCollection
            {
                CollectionName = spec.Name,
                VectorsConfig = new VectorsConfig
                {
                    ParamsMap = new VectorParamsMap { Map = { [_options.DenseVectorName] = new VectorParams { Size = (ulong)spec.Dimensions, Distance = DistanceOf(spec.Metric) } } },
                },
                SparseVectorsConfig = new SparseVectorConfig { Map = { [_options.SparseVectorName] = new SparseVectorParams { Modifier = Modifier.Idf } } },
                HnswConfig = new HnswConfigDiff { M = (ulong)_options.HnswM, EfConstruct = (ulong)_options.HnswEfConstruct },
#pragma warning disable CS0612 // Qdrant 1.20 prefers payload.memory, which older servers (1.16-1.19) ignore; on_disk_payload works on both.
                OnDiskPayload = _options.OnDiskPayload,
#pragma warning restore CS0612
                Metadata = { [FingerprintKey] = spec.Fingerprint.ToString(), [AnalyzerKey] = _lexical.AnalyzerId },
            };
            RpcException? createError = null;
            try
            {
                await _client.CreateCollectionAsync(create, cancellationToken);
            }
            catch (RpcException e)
            {
                // It may only mean another process created it meanwhile: then it is checked like any existing one.
                createError = e;
            }

            existing = await GetCollectionAsync(spec.Name, cancellationToken)
                ?? throw (createError is null
                    ? new RemoteServiceException($"Qdrant did not show collection '{spec.Name}' after creating it.")
                    : Failure($"create collection '{spec.Name}'", createError));
        }

        if (existing.Dimensions != spec.Dimensions || existing.Metric != spec.Metric || existing.Fingerprint != spec.Fingerprint)
        {
            throw new VectorCollectionMismatchException(
                $"Qdrant collection '{spec.Name}' holds {existing.Dimensions}-dim {existing.Metric} vectors of {existing.Fingerprint}; asked for {spec.Dimensions}-dim {spec.Metric} of {spec.Fingerprint}.");
        }

        // Index creation is idempotent in Qdrant, so an interrupted earlier Ensure is completed here.
        foreach (var field in QdrantPoints.IndexedFields)
        {
            await CallAsync($"create payload index '{field}' on '{spec.Name}'", spec.Name, () =>
                _client.CreatePayloadIndexAsync(spec.Name, field, PayloadSchemaType.Keyword, wait: true, cancellationToken: cancellationToken));
        }
    }

    public async Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken) =>
        (await ReadStateAsync(collection, cancellationToken))?.Spec;

    /// <summary>The collection's spec and metadata as Qdrant holds them now (cached for later calls), or null when it does not exist.</summary>
    private async Task<CollectionState?> ReadStateAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        CollectionInfo info;
        try
        {
            info = await _client.GetCollectionInfoAsync(collection, cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            _collections.TryRemove(collection, out _);
            return null;
        }
        catch (RpcException e)
        {
            throw Failure($"get collection '{collection}'", e);
        }

        var config = info.Config;
        var vectors = config.Params.VectorsConfig;
        if (vectors?.ConfigCase != VectorsConfig.ConfigOneofCase.ParamsMap
            || !vectors.ParamsMap.Map.TryGetValue(_options.DenseVectorName, out var dense)
            || config.Params.SparseVectorsConfig?.Map.TryGetValue(_options.SparseVectorName, out var sparse) != true
            || sparse.Modifier != Modifier.Idf)
        {
            throw new VectorCollectionMismatchException(
                $"Qdrant collection '{collection}' does not have the dense vector '{_options.DenseVectorName}' and the sparse vector '{_options.SparseVectorName}' (IDF modifier) RagPlatform collections have.");
        }

        if (!config.Metadata.TryGetValue(FingerprintKey, out var fingerprint) || !fingerprint.HasStringValue)
        {
            throw new VectorCollectionMismatchException(
                $"Qdrant collection '{collection}' has no '{FingerprintKey}' in its metadata: it was not created by RagPlatform (or the server is older than Qdrant 1.16, which added collection metadata).");
        }

        var spec = new VectorCollectionSpec(collection, (int)dense.Size, MetricOf(dense.Distance), ModelFingerprint.Parse(fingerprint.StringValue));
        var state = _collections.AddOrUpdate(collection, _ => new CollectionState(spec), (_, held) => held.With(spec));
        state.Average = config.Metadata.TryGetValue(AverageLengthKey, out var average) && average.HasDoubleValue ? average.DoubleValue : 0;
        state.Sample = config.Metadata.TryGetValue(SampleKey, out var sample) && sample.HasIntegerValue ? sample.IntegerValue : 0;
        state.Analyzer = config.Metadata.TryGetValue(AnalyzerKey, out var analyzer) && analyzer.HasStringValue ? analyzer.StringValue : LegacyAnalyzer;
        return state;
    }

    public async Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        _collections.TryRemove(collection, out _);
        try
        {
            await _client.DeleteCollectionAsync(collection, cancellationToken: cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // Already gone.
        }
        catch (RpcException e)
        {
            throw Failure($"delete collection '{collection}'", e);
        }
    }

    /// <summary>
    /// Points <paramref name="alias"/> at <paramref name="collection"/> in one atomic alias change (delete the old
    /// alias, create the new one): readers using the alias see the old collection until the switch, then the new one.
    /// Every operation here accepts an alias where it accepts a collection name.
    /// </summary>
    public async Task SwitchAliasAsync(string alias, string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        // Deleting an alias that does not exist is an error in Qdrant, so the delete is only sent for one that does.
        var existing = await CallAsync("list aliases", null, () => _client.ListAliasesAsync(cancellationToken));
        var actions = new List<AliasOperations>();
        if (existing.Any(a => a.AliasName == alias))
        {
            actions.Add(new AliasOperations { DeleteAlias = new DeleteAlias { AliasName = alias } });
        }

        actions.Add(new AliasOperations { CreateAlias = new CreateAlias { AliasName = alias, CollectionName = collection } });
        await CallAsync($"switch alias '{alias}' to '{collection}'", null, () => _client.UpdateAliasesAsync(actions, cancellationToken: cancellationToken));
        _collections.TryRemove(alias, out _);
    }

    /// <summary>
    /// The platform's hook for its blue/green re-index: the alias <c>&lt;collection&gt;</c> + <see cref="QdrantOptions.ActiveAliasSuffix"/>
    /// (e.g. <c>docs_active</c>) follows the version that serves the collection, so an application that reads Qdrant
    /// directly switches with the platform, atomically. No-op when the suffix is empty.
    /// </summary>
    public Task ActivateAsync(string collection, string physicalCollection, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(_options.ActiveAliasSuffix)
            ? Task.CompletedTask
            : SwitchAliasAsync(collection + _options.ActiveAliasSuffix, physicalCollection, cancellationToken);

    /// <summary>Removes an alias (the collection it pointed at stays); no-op when absent.</summary>
    public async Task DeleteAliasAsync(string alias, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        var existing = await CallAsync("list aliases", null, () => _client.ListAliasesAsync(cancellationToken));
        if (existing.Any(a => a.AliasName == alias))
        {
            await CallAsync($"delete alias '{alias}'", null, () => _client.DeleteAliasAsync(alias, cancellationToken: cancellationToken));
        }

        _collections.TryRemove(alias, out _);
    }

    /// <summary>The aliases that point at <paramref name="collection"/>.</summary>
    public async Task<IReadOnlyList<string>> ListAliasesAsync(string collection, CancellationToken cancellationToken)
    {
        var aliases = await CallAsync($"list aliases of '{collection}'", collection, () => _client.ListCollectionAliasesAsync(collection, cancellationToken));
        return [.. aliases];
    }

    /// <summary>Has Qdrant write a snapshot of the collection (on the server, under its snapshots path); returns its name.
    /// A snapshot holds the points with both vectors and the metadata: Qdrant can restore it into a new cluster.</summary>
    public async Task<string> CreateSnapshotAsync(string collection, CancellationToken cancellationToken)
    {
        var snapshot = await CallAsync($"snapshot '{collection}'", collection, () => _client.CreateSnapshotAsync(collection, cancellationToken));
        return snapshot.Name;
    }

    /// <summary>The collection's snapshots on the server, oldest first.</summary>
    public async Task<IReadOnlyList<(string Name, DateTimeOffset Created, long Bytes)>> ListSnapshotsAsync(string collection, CancellationToken cancellationToken)
    {
        var snapshots = await CallAsync($"list snapshots of '{collection}'", collection, () => _client.ListSnapshotsAsync(collection, cancellationToken));
        return [.. snapshots.OrderBy(s => s.CreationTime?.ToDateTimeOffset()).Select(s => (s.Name, s.CreationTime?.ToDateTimeOffset() ?? default, s.Size))];
    }

    public Task DeleteSnapshotAsync(string collection, string snapshot, CancellationToken cancellationToken) =>
        CallAsync($"delete snapshot '{snapshot}' of '{collection}'", collection, () => _client.DeleteSnapshotAsync(collection, snapshot, cancellationToken));

    // ---- writes ----------------------------------------------------------------------------------------

    public async Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        var state = await RequireAnalyzerAsync(collection, cancellationToken);
        if (points.Count == 0)
        {
            return;
        }

        // Every point is checked and built before the first request, so bad input writes nothing.
        var counted = new (Dictionary<uint, int> Counts, int Length)[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            ArgumentException.ThrowIfNullOrEmpty(points[i].Id, nameof(points));
            VectorMath.Validate(points[i].Vector, state.Spec.Dimensions, points[i].Id);
            counted[i] = Bm25TermWeights.Count(_lexical, LexicalAnalysis.IndexedText(points[i].Payload));
        }

        var average = await AverageLengthAsync(collection, state, counted, cancellationToken);
        await WriteAsync(collection, points, counted, average, cancellationToken);
    }

    /// <summary>Upserts the points, each with its dense vector, its sparse BM25 vector (from its counted terms) and its payload, in size-bounded requests.</summary>
    private async Task WriteAsync(
        string collection, IReadOnlyList<VectorPoint> points, (Dictionary<uint, int> Counts, int Length)[] counted, double average, CancellationToken cancellationToken)
    {
        var structs = new PointStruct[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            var point = points[i];
            var vectors = new NamedVectors { Vectors = { [_options.DenseVectorName] = new Vector { Dense = new DenseVector { Data = { point.Vector } } } } };
            if (Bm25TermWeights.Document(_lexical, counted[i].Counts, counted[i].Length, average) is { } sparse)
            {
                vectors.Vectors[_options.SparseVectorName] = new Vector { Sparse = sparse };
            }

            var built = new PointStruct { Id = QdrantPointIds.For(point.Id), Vectors = new Vectors { Vectors_ = vectors } };
            QdrantPoints.WritePayload(built.Payload, point.Id, point.Payload);
            structs[i] = built;
        }

        var start = 0;
        while (start < structs.Length)
        {
            // Size-bounded batches (the request's own envelope is a few bytes per point beyond the points).
            var end = start;
            long bytes = 0;
            while (end < structs.Length && end - start < _options.MaxBatchPoints)
            {
                var size = structs[end].CalculateSize() + 16L;
                if (size + 1024 > _options.MaxRequestBytes)
                {
                    throw new ArgumentException($"Point '{points[end].Id}' needs {size} bytes in a request; the limit is {_options.MaxRequestBytes} (MaxRequestBytes).", nameof(points));
                }

                if (end > start && bytes + size + 1024 > _options.MaxRequestBytes)
                {
                    break;
                }

                bytes += size;
                end++;
            }

            var batch = new ArraySegment<PointStruct>(structs, start, end - start);
            await CallAsync($"upsert {batch.Count} points into '{collection}'", collection, () =>
                _client.UpsertAsync(collection, batch, wait: true, cancellationToken: cancellationToken));
            start = end;
        }
    }

    public async Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        await RequireStateAsync(collection, cancellationToken);
        var existing = (await RetrieveRecordsAsync(collection, pointIds, withVectors: false, cancellationToken)).Select(p => p.Id).ToList();
        foreach (var chunk in existing.Chunk(1000))
        {
            await CallAsync($"delete points from '{collection}'", collection, () =>
                _client.DeleteAsync(collection, chunk.Select(id => (PointId)QdrantPointIds.For(id)).ToList(), wait: true, cancellationToken: cancellationToken));
        }

        return existing.Count;
    }

    public async Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documentId);

        // Qdrant's delete does not report how many points it removed, so they are counted (exactly) first.
        var filter = QdrantPoints.DocumentFilter(documentId);
        var count = await CountByFilterAsync(collection, filter, cancellationToken);
        if (count > 0)
        {
            await CallAsync($"delete document '{documentId}' from '{collection}'", collection, () =>
                _client.DeleteAsync(collection, filter, wait: true, cancellationToken: cancellationToken));
        }

        return count;
    }

    // ---- reads -----------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        await RequireStateAsync(collection, cancellationToken);
        return await RetrieveRecordsAsync(collection, pointIds, withVectors: true, cancellationToken);
    }

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.TopK, 1);
        var state = await RequireStateAsync(collection, cancellationToken);
        VectorMath.Validate(query.Vector, state.Spec.Dimensions, "query");
        var points = await CallAsync($"query '{collection}'", collection, () => _client.QueryAsync(
            collection,
            query: DenseQuery(query.Vector),
            usingVector: _options.DenseVectorName,
            filter: QdrantPoints.FilterOf(query.Filter),
            searchParams: SearchParamsFor(query.TopK),
            limit: (ulong)query.TopK,
            payloadSelector: true,
            vectorsSelector: false,
            cancellationToken: cancellationToken));

        // Qdrant reports Euclid as a distance (smaller is closer); the contract wants higher-is-closer.
        var negate = state.Spec.Metric == DistanceMetric.Euclidean;
        return [.. points.Select(p => Hit(p, negate ? -p.Score : p.Score))];
    }

    public async Task<IReadOnlyList<VectorSearchHit>> SearchLexicalAsync(string collection, LexicalQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.TopK, 1);
        await RequireAnalyzerAsync(collection, cancellationToken);
        if (Bm25TermWeights.Query(_lexical, query.Text) is not { } sparse)
        {
            return [];
        }

        var points = await CallAsync($"lexical query '{collection}'", collection, () => _client.QueryAsync(
            collection,
            query: new Query { Nearest = new VectorInput { Sparse = sparse } },
            usingVector: _options.SparseVectorName,
            filter: QdrantPoints.FilterOf(query.Filter),
            limit: (ulong)query.TopK,
            payloadSelector: true,
            vectorsSelector: false,
            cancellationToken: cancellationToken));
        return Ordered(points.Select(p => Hit(p, p.Score)));
    }

    /// <summary>
    /// One Query API call: prefetch the dense and the sparse (BM25) candidates, each with the filter and the
    /// candidate depth, fused by Qdrant's RRF. The platform's fusion adds weight / (k + rank) per side; Qdrant's
    /// RRF adds 1 / (k' + position) per prefetch (its weights divide the position instead, a different curve), so
    /// integer weights are sent as that many copies of a side's prefetch with k' = k + 1 — exactly the platform's
    /// ranking. Other weight ratios are approximated by the nearest ratio of small integers (at most
    /// <see cref="MaxPrefetchRepeats"/> prefetches), and k by the nearest integer.
    /// </summary>
    public async Task<IReadOnlyList<VectorSearchHit>> SearchHybridAsync(string collection, HybridQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.TopK, 1);
        var state = await RequireAnalyzerAsync(collection, cancellationToken);
        VectorMath.Validate(query.Vector, state.Spec.Dimensions, "query");
        var sparse = Bm25TermWeights.Query(_lexical, query.Text);
        var (denseCopies, lexicalCopies) = PrefetchRepeats(query.DenseWeight, sparse is null ? 0 : query.LexicalWeight);
        var filter = QdrantPoints.FilterOf(query.Filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.CandidateDepth, 1);
        var depth = (ulong)query.CandidateDepth;
        var prefetch = new List<PrefetchQuery>();
        for (var i = 0; i < denseCopies; i++)
        {
            prefetch.Add(new PrefetchQuery { Query = DenseQuery(query.Vector), Using = _options.DenseVectorName, Filter = filter, Limit = depth, Params = SearchParamsFor((int)depth) });
        }

        for (var i = 0; i < lexicalCopies; i++)
        {
            prefetch.Add(new PrefetchQuery { Query = new Query { Nearest = new VectorInput { Sparse = sparse } }, Using = _options.SparseVectorName, Filter = filter, Limit = depth });
        }

        if (prefetch.Count == 0)
        {
            return [];
        }

        var k = (uint)Math.Max(1, Math.Round(query.RrfK + 1));
        var points = await CallAsync($"hybrid query '{collection}'", collection, () => _client.QueryAsync(
            collection,
            query: new Query { Rrf = new Rrf { K = k } },
            prefetch: prefetch,
            limit: (ulong)query.TopK,
            payloadSelector: true,
            vectorsSelector: false,
            cancellationToken: cancellationToken));

        // Scaled back to the platform's sums (each copy stands for weight / copies), ties broken by id as the
        // platform breaks them: Qdrant leaves the order of equal scores open.
        var scale = denseCopies > 0 ? query.DenseWeight / denseCopies : query.LexicalWeight / lexicalCopies;
        return Ordered(points.Select(p => Hit(p, (float)(p.Score * scale))));
    }

    /// <summary>
    /// <c>rag lexical rebuild</c> for a Qdrant collection: every point is written again with the sparse vector this
    /// process's analyzer cuts from its payload (its dense vector and payload unchanged), then the analyzer and the
    /// BM25 average length, now over every chunk, are recorded in one metadata update. The analyzer is recorded last,
    /// so a rebuild that stops midway leaves the collection refused as before, and running it again completes it.
    /// </summary>
    public async Task<long> RebuildLexicalAsync(string collection, CancellationToken cancellationToken)
    {
        var state = await RequireStateAsync(collection, cancellationToken);

        // The average length the weights are written with is the new terms' (word terms lengthen every chunk): one
        // pass over the payloads first, then the points are rewritten with it.
        long chunks = 0;
        double totalLength = 0;
        await foreach (var record in ScrollAsync(collection, withDense: false, cancellationToken))
        {
            var (_, payload) = QdrantPoints.ReadPayload(record.Id, record.Payload);
            totalLength += _lexical.Tokenize(LexicalAnalysis.IndexedText(payload)).Count;
            chunks++;
        }

        var average = chunks == 0 ? 0 : Math.Max(1, totalLength / chunks);
        await foreach (var batch in VectorPointBatches.ReadAsync(ExportAsync(collection, cancellationToken), _options.MaxBatchPoints, cancellationToken))
        {
            var counted = batch.Select(p => Bm25TermWeights.Count(_lexical, LexicalAnalysis.IndexedText(p.Payload))).ToArray();
            await WriteAsync(collection, batch, counted, average, cancellationToken);
        }

        await state.Gate.WaitAsync(cancellationToken);
        try
        {
            await CallAsync($"record the lexical analyzer of '{collection}'", collection, () => _client.UpdateCollectionAsync(
                collection,
                metadata: new Dictionary<string, Value> { [AnalyzerKey] = _lexical.AnalyzerId, [AverageLengthKey] = average, [SampleKey] = chunks },
                cancellationToken: cancellationToken));
            (state.Analyzer, state.Average, state.Sample) = (_lexical.AnalyzerId, average, chunks);
        }
        finally
        {
            state.Gate.Release();
        }

        return chunks;
    }

    public Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken) =>
        CountByFilterAsync(collection, QdrantPoints.FilterOf(filter), cancellationToken);

    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await RequireStateAsync(collection, cancellationToken);
        await foreach (var record in ScrollAsync(collection, withDense: true, cancellationToken))
        {
            yield return ReadPoint(record);
        }
    }

    public async Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        long written = 0;
        await foreach (var batch in VectorPointBatches.ReadAsync(points, _options.MaxBatchPoints, cancellationToken))
        {
            await UpsertAsync(collection, batch, cancellationToken);
            written += batch.Count;
        }

        return written;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    /// <summary>
    /// Integer prefetch copies (dense, lexical) whose ratio is the weights' ratio: exact for whole-number ratios
    /// (1:4 is 1 and 4 copies), else the nearest ratio with at most <see cref="MaxPrefetchRepeats"/> copies in all.
    /// </summary>
    internal static (int Dense, int Lexical) PrefetchRepeats(double denseWeight, double lexicalWeight)
    {
        if (denseWeight <= 0 && lexicalWeight <= 0)
        {
            return (0, 0);
        }

        if (denseWeight <= 0)
        {
            return (0, 1);
        }

        if (lexicalWeight <= 0)
        {
            return (1, 0);
        }

        var target = denseWeight / lexicalWeight;
        var best = (Dense: 1, Lexical: 1);
        var bestError = double.MaxValue;
        for (var total = 2; total <= MaxPrefetchRepeats; total++)
        {
            for (var dense = 1; dense < total; dense++)
            {
                var error = Math.Abs(Math.Log((double)dense / (total - dense) / target));
                if (error < bestError - 1e-12)
                {
                    (best, bestError) = ((dense, total - dense), error);
                }
            }
        }

        return best;
    }

    /// <summary>Every point of the collection in id order, page by page, with its payload and (when asked) its dense vector.</summary>
    private async IAsyncEnumerable<RetrievedPoint> ScrollAsync(string collection, bool withDense, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        PointId? offset = null;
        do
        {
            var pageOffset = offset;
            var page = await CallAsync($"scroll '{collection}'", collection, () => _client.ScrollAsync(
                collection,
                limit: (uint)_options.ScrollPageSize,
                offset: pageOffset,
                payloadSelector: true,
                vectorsSelector: withDense ? DenseOnly() : false,
                cancellationToken: cancellationToken));
            foreach (var record in page.Result)
            {
                yield return record;
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null);
    }

    private static IReadOnlyList<VectorSearchHit> Ordered(IEnumerable<VectorSearchHit> hits) =>
        [.. hits.OrderByDescending(h => h.Score).ThenBy(h => h.Id, StringComparer.Ordinal)];

    private static VectorSearchHit Hit(ScoredPoint point, float score)
    {
        var (id, payload) = QdrantPoints.ReadPayload(point.Id, point.Payload);
        return new VectorSearchHit(id, score, payload);
    }

    private static Query DenseQuery(float[] vector) => new() { Nearest = new VectorInput { Dense = new DenseVector { Data = { vector } } } };

    private SearchParams SearchParamsFor(int topK) => new() { HnswEf = (ulong)Math.Max(_options.HnswEf, topK), Exact = _options.ExactSearch };

    private WithVectorsSelector DenseOnly() => new() { Include = new VectorsSelector { Names = { _options.DenseVectorName } } };

    private VectorPoint ReadPoint(RetrievedPoint record)
    {
        var (id, payload) = QdrantPoints.ReadPayload(record.Id, record.Payload);
        return new VectorPoint(id, DenseOf(record.Vectors), payload);
    }

    private float[] DenseOf(VectorsOutput? vectors)
    {
        if (vectors?.Vectors?.Vectors.TryGetValue(_options.DenseVectorName, out var named) == true)
        {
            // Servers fill the typed "dense" field; older ones only the deprecated flat "data".
#pragma warning disable CS0612
            return named.Dense is { } dense ? [.. dense.Data] : [.. named.Data];
#pragma warning restore CS0612
        }

        return [];
    }

    private async Task<long> CountByFilterAsync(string collection, Filter? filter, CancellationToken cancellationToken)
    {
        await RequireStateAsync(collection, cancellationToken);
        return (long)await CallAsync($"count '{collection}'", collection, () => _client.CountAsync(collection, filter, exact: true, cancellationToken: cancellationToken));
    }

    private async Task<List<VectorPoint>> RetrieveRecordsAsync(string collection, IReadOnlyList<string> pointIds, bool withVectors, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, VectorPoint>(StringComparer.Ordinal);
        foreach (var chunk in pointIds.Distinct(StringComparer.Ordinal).Chunk(1000))
        {
            var records = await CallAsync($"retrieve points from '{collection}'", collection, () => _client.RetrieveAsync(
                collection,
                chunk.Select(id => (PointId)QdrantPointIds.For(id)).ToList(),
                payloadSelector: true,
                vectorSelector: withVectors ? DenseOnly() : false,
                cancellationToken: cancellationToken));
            foreach (var record in records)
            {
                var point = ReadPoint(record);
                found[point.Id] = withVectors ? point : point with { Vector = [] };
            }
        }

        return [.. found.Values];
    }

    /// <summary>
    /// The average chunk length BM25 weights of this batch are written with: the running mean over the chunks
    /// written so far (this batch included) while fewer than <see cref="QdrantOptions.AverageLengthSampleChunks"/>
    /// have been seen, kept in the collection's metadata so every process and restart uses the same figure.
    /// </summary>
    private async Task<double> AverageLengthAsync(string collection, CollectionState state, (Dictionary<uint, int> Counts, int Length)[] batch, CancellationToken cancellationToken)
    {
        await state.Gate.WaitAsync(cancellationToken);
        try
        {
            if (state.Sample >= _options.AverageLengthSampleChunks && state.Average > 0)
            {
                return state.Average;
            }

            var total = (state.Average * state.Sample) + batch.Sum(b => (double)b.Length);
            var sample = state.Sample + batch.Length;
            var average = Math.Max(1, total / sample);
            await CallAsync($"record the BM25 average length of '{collection}'", collection, () => _client.UpdateCollectionAsync(
                collection,
                metadata: new Dictionary<string, Value> { [AverageLengthKey] = average, [SampleKey] = sample },
                cancellationToken: cancellationToken));
            (state.Average, state.Sample) = (average, sample);
            return average;
        }
        finally
        {
            state.Gate.Release();
        }
    }

    private async Task<CollectionState> RequireStateAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        if (_collections.TryGetValue(collection, out var cached))
        {
            return cached;
        }

        return await ReadStateAsync(collection, cancellationToken) ?? throw new VectorCollectionNotFoundException(collection);
    }

    /// <summary>
    /// The collection's state for an operation on its sparse vectors (BM25 search, writes): refused when another
    /// analyzer cut the terms they hold — a query's terms would silently miss theirs, new writes would mix the two.
    /// Dense search, export and deletes do not touch the terms and are not refused.
    /// </summary>
    private async Task<CollectionState> RequireAnalyzerAsync(string collection, CancellationToken cancellationToken)
    {
        var state = await RequireStateAsync(collection, cancellationToken);
        if (!string.Equals(state.Analyzer, _lexical.AnalyzerId, StringComparison.Ordinal))
        {
            // Read again before refusing: `rag lexical rebuild` may have re-cut it since this process cached it.
            state = await ReadStateAsync(collection, cancellationToken) ?? throw new VectorCollectionNotFoundException(collection);
            if (!string.Equals(state.Analyzer, _lexical.AnalyzerId, StringComparison.Ordinal))
            {
                throw new LexicalAnalyzerMismatchException(collection, state.Analyzer, _lexical.AnalyzerId);
            }
        }

        return state;
    }

    private async Task CallAsync(string operation, string? collection, Func<Task> call) =>
        await CallAsync(operation, collection, async () =>
        {
            await call();
            return true;
        });

    private async Task<T> CallAsync<T>(string operation, string? collection, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && collection is not null)
        {
            // The collection was dropped (perhaps by another process) since its spec was cached.
            _collections.TryRemove(collection, out _);
            throw new VectorCollectionNotFoundException(collection);
        }
        catch (RpcException e)
        {
            throw Failure(operation, e);
        }
    }

    /// <summary>Qdrant's status and its own words; never the key (it travels only in call metadata).</summary>
    private RemoteServiceException Failure(string operation, RpcException error)
    {
        _logger.LogWarning("Qdrant {Operation} failed: {Status} {Detail}", operation, error.StatusCode, error.Status.Detail);
        return new RemoteServiceException($"Qdrant {operation} failed: {error.StatusCode}: {error.Status.Detail}", innerException: error);
    }

    private static Distance DistanceOf(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => Distance.Cosine,
        DistanceMetric.DotProduct => Distance.Dot,
        DistanceMetric.Euclidean => Distance.Euclid,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric."),
    };

    private static DistanceMetric MetricOf(Distance distance) => distance switch
    {
        Distance.Cosine => DistanceMetric.Cosine,
        Distance.Dot => DistanceMetric.DotProduct,
        Distance.Euclid => DistanceMetric.Euclidean,
        _ => throw new VectorCollectionMismatchException($"Qdrant distance {distance} has no RagPlatform metric."),
    };

    /// <summary>What this process knows of a collection: its spec, the analyzer of its terms and the BM25 average length written so far.</summary>
    private sealed class CollectionState(VectorCollectionSpec spec)
    {
        public VectorCollectionSpec Spec { get; private set; } = spec;

        public string Analyzer { get; set; } = LegacyAnalyzer;

        public double Average { get; set; }

        public long Sample { get; set; }

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public CollectionState With(VectorCollectionSpec spec)
        {
            Spec = spec;
            return this;
        }
    }
}
