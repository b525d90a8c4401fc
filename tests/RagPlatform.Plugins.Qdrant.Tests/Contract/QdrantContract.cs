using System.Collections.Concurrent;
using Google.Protobuf;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using Grpc.Core;
using Qdrant.Client.Grpc;

namespace RagPlatform.Plugins.Qdrant.Tests.Contract;

/// <summary>
/// An in-memory Qdrant that answers the gRPC calls the plugin makes, with the semantics Qdrant documents for them:
/// collections with named dense vectors (Cosine vectors normalised on write, Euclid scored as a distance) and named
/// sparse vectors with the IDF modifier (idf = ln(1 + (N − n + 0.5) / (n + 0.5)) over the points holding the
/// sparse vector, as Qdrant's BM25-style IDF); payload keyword matching on strings and string lists; the Query API's
/// nearest search on either vector and prefetch fused by RRF with Qdrant's own formula
/// (1 / ((position + 1) / weight + k − 1), k 2 by default; order of equal scores left open, so shuffled here);
/// scroll in id order with next-page offsets; aliases (deleting a missing one is an error); collection metadata
/// merged on update; snapshots recorded. NOT FOUND for a missing collection, UNAUTHENTICATED without the key,
/// INVALID_ARGUMENT for what Qdrant refuses. Anything the plugin does not use answers UNIMPLEMENTED.
/// </summary>
public sealed class QdrantContract(string? apiKey)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredCollection> _collections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<StatusCode> _faults = new();
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly Random _ties = new(7);
    private int _snapshots;

    public string? ApiKey { get; } = apiKey;

    /// <summary>Every call's method name, in order (e.g. "Points/Upsert").</summary>
    public IReadOnlyList<string> Calls => [.. _calls];

    /// <summary>The api-key header of every call, in order (null when absent).</summary>
    public ConcurrentQueue<string?> Keys { get; } = new();

    /// <summary>The next calls fail with these statuses, one each, before anything is done.</summary>
    public void EnqueueFault(StatusCode status) => _faults.Enqueue(status);

    /// <summary>The number of points a collection (or alias) holds.</summary>
    public int PointCount(string collection)
    {
        lock (_gate)
        {
            return Resolve(collection).Points.Count;
        }
    }

    /// <summary>Every alias and the collection it points at.</summary>
    public IReadOnlyDictionary<string, string> Aliases
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, string>(_aliases);
            }
        }
    }

    /// <summary>The collection's metadata as stored.</summary>
    public IReadOnlyDictionary<string, Value> Metadata(string collection)
    {
        lock (_gate)
        {
            return new Dictionary<string, Value>(Resolve(collection).Create.Metadata);
        }
    }

    /// <summary>Removes a metadata key, as if the collection had been made before the plugin wrote it (not a Qdrant call: a test's setup).</summary>
    public void RemoveMetadata(string collection, string key)
    {
        lock (_gate)
        {
            Resolve(collection).Create.Metadata.Remove(key);
        }
    }

    /// <summary>The stored sparse vector of a point (by its UUID), or null.</summary>
    public SparseVector? Sparse(string collection, Guid id)
    {
        lock (_gate)
        {
            return Resolve(collection).Points.TryGetValue(id, out var point) && point.Sparse.TryGetValue(SparseName(Resolve(collection)), out var sparse) ? sparse : null;
        }
    }

    internal void Authorize(ServerCallContext call)
    {
        var key = call.RequestHeaders.GetValue("api-key");
        Keys.Enqueue(key);
        _calls.Enqueue(call.Method.TrimStart('/').Replace("qdrant.", string.Empty, StringComparison.Ordinal));
        if (_faults.TryDequeue(out var fault))
        {
            throw new RpcException(new Status(fault, $"injected {fault}"));
        }

        if (ApiKey is not null && key != ApiKey)
        {
            // Qdrant's answer does not repeat the key it was given.
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Invalid api-key"));
        }
    }

    // ---- collections -------------------------------------------------------------------------------------

    internal GetCollectionInfoResponse GetCollection(GetCollectionInfoRequest request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);
            var create = collection.Create;
            var info = new CollectionInfo
            {
                Status = CollectionStatus.Green,
                OptimizerStatus = new OptimizerStatus { Ok = true },
                PointsCount = (ulong)collection.Points.Count,
                SegmentsCount = 1,
                Config = new CollectionConfig
                {
                    Params = new CollectionParams { VectorsConfig = create.VectorsConfig, SparseVectorsConfig = create.SparseVectorsConfig, ShardNumber = 1 },
                    HnswConfig = create.HnswConfig,
                },
            };
            info.Config.Metadata.Add(create.Metadata);
            foreach (var field in collection.KeywordIndexes)
            {
                info.PayloadSchema[field] = new PayloadSchemaInfo { DataType = PayloadSchemaType.Keyword };
            }

            return new GetCollectionInfoResponse { Result = info };
        }
    }

    internal CollectionOperationResponse CreateCollection(CreateCollection request, ServerCallContext call)
    {
        lock (_gate)
        {
            if (_collections.ContainsKey(request.CollectionName) || _aliases.ContainsKey(request.CollectionName))
            {
                throw Invalid($"Wrong input: Collection `{request.CollectionName}` already exists!");
            }

            if (request.VectorsConfig?.ConfigCase is not (VectorsConfig.ConfigOneofCase.Params or VectorsConfig.ConfigOneofCase.ParamsMap))
            {
                throw Invalid("Wrong input: vectors_config is required");
            }

            var vectors = request.VectorsConfig.ConfigCase == VectorsConfig.ConfigOneofCase.ParamsMap
                ? request.VectorsConfig.ParamsMap.Map
                : new Google.Protobuf.Collections.MapField<string, VectorParams> { [string.Empty] = request.VectorsConfig.Params };
            foreach (var (name, parameters) in vectors)
            {
                if (parameters.Size == 0 || parameters.Distance == Distance.UnknownDistance)
                {
                    throw Invalid($"Wrong input: vector '{name}' needs a size and a distance");
                }
            }

            _collections[request.CollectionName] = new StoredCollection(request.Clone());
            return new CollectionOperationResponse { Result = true };
        }
    }

    internal CollectionOperationResponse UpdateCollection(UpdateCollection request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);

            // Qdrant merges the given metadata keys into what the collection has.
            foreach (var (key, value) in request.Metadata)
            {
                collection.Create.Metadata[key] = value;
            }

            return new CollectionOperationResponse { Result = true };
        }
    }

    internal CollectionOperationResponse DeleteCollection(DeleteCollection request, ServerCallContext call)
    {
        lock (_gate)
        {
            var name = _aliases.GetValueOrDefault(request.CollectionName, request.CollectionName);
            if (!_collections.Remove(name))
            {
                throw NotFound(request.CollectionName);
            }

            foreach (var alias in _aliases.Where(a => a.Value == name).Select(a => a.Key).ToList())
            {
                _aliases.Remove(alias);
            }

            return new CollectionOperationResponse { Result = true };
        }
    }

    internal CollectionOperationResponse UpdateAliases(ChangeAliases request, ServerCallContext call)
    {
        lock (_gate)
        {
            // All or nothing: the actions apply to a copy that replaces the aliases only if every one succeeds.
            var next = new Dictionary<string, string>(_aliases, StringComparer.Ordinal);
            foreach (var action in request.Actions)
            {
                switch (action.ActionCase)
                {
                    case AliasOperations.ActionOneofCase.CreateAlias:
                        if (!_collections.ContainsKey(action.CreateAlias.CollectionName))
                        {
                            throw NotFound(action.CreateAlias.CollectionName);
                        }

                        if (next.ContainsKey(action.CreateAlias.AliasName) || _collections.ContainsKey(action.CreateAlias.AliasName))
                        {
                            throw Invalid($"Wrong input: Alias `{action.CreateAlias.AliasName}` already exists!");
                        }

                        next[action.CreateAlias.AliasName] = action.CreateAlias.CollectionName;
                        break;
                    case AliasOperations.ActionOneofCase.DeleteAlias:
                        if (!next.Remove(action.DeleteAlias.AliasName))
                        {
                            throw new RpcException(new Status(StatusCode.NotFound, $"Not found: Alias {action.DeleteAlias.AliasName} does not exists!"));
                        }

                        break;
                    default:
                        throw new RpcException(new Status(StatusCode.Unimplemented, $"alias action {action.ActionCase} is not modelled"));
                }
            }

            _aliases.Clear();
            foreach (var (alias, collection) in next)
            {
                _aliases[alias] = collection;
            }

            return new CollectionOperationResponse { Result = true };
        }
    }

    internal ListAliasesResponse ListAliases(ListAliasesRequest request, ServerCallContext call)
    {
        lock (_gate)
        {
            var response = new ListAliasesResponse();
            response.Aliases.AddRange(_aliases.Select(a => new AliasDescription { AliasName = a.Key, CollectionName = a.Value }));
            return response;
        }
    }

    internal ListAliasesResponse ListCollectionAliases(ListCollectionAliasesRequest request, ServerCallContext call)
    {
        lock (_gate)
        {
            _ = Resolve(request.CollectionName);
            var response = new ListAliasesResponse();
            response.Aliases.AddRange(_aliases.Where(a => a.Value == request.CollectionName)
                .Select(a => new AliasDescription { AliasName = a.Key, CollectionName = a.Value }));
            return response;
        }
    }

    internal CreateSnapshotResponse CreateSnapshot(CreateSnapshotRequest request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);
            var now = DateTimeOffset.UtcNow;
            var description = new SnapshotDescription
            {
                Name = $"{request.CollectionName}-{++_snapshots}-{now:yyyy-MM-dd-HH-mm-ss}.snapshot",
                CreationTime = Timestamp.FromDateTimeOffset(now),
                Size = collection.Points.Values.Sum(p => (long)p.Size),
            };
            collection.Snapshots.Add(description);
            return new CreateSnapshotResponse { SnapshotDescription = description };
        }
    }

    internal ListSnapshotsResponse ListSnapshots(ListSnapshotsRequest request, ServerCallContext call)
    {
        lock (_gate)
        {
            var response = new ListSnapshotsResponse();
            response.SnapshotDescriptions.AddRange(Resolve(request.CollectionName).Snapshots);
            return response;
        }
    }

    internal DeleteSnapshotResponse DeleteSnapshot(DeleteSnapshotRequest request, ServerCallContext call)
    {
        lock (_gate)
        {
            if (Resolve(request.CollectionName).Snapshots.RemoveAll(s => s.Name == request.SnapshotName) == 0)
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"Not found: Snapshot {request.SnapshotName} not found"));
            }

            return new DeleteSnapshotResponse();
        }
    }

    // ---- points ------------------------------------------------------------------------------------------

    internal PointsOperationResponse CreateFieldIndex(CreateFieldIndexCollection request, ServerCallContext call)
    {
        lock (_gate)
        {
            if (request.FieldType != FieldType.Keyword)
            {
                throw new RpcException(new Status(StatusCode.Unimplemented, $"field index type {request.FieldType} is not modelled"));
            }

            Resolve(request.CollectionName).KeywordIndexes.Add(request.FieldName);
            return Completed();
        }
    }

    internal PointsOperationResponse Upsert(UpsertPoints request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);

            // Checked whole before anything is stored: Qdrant refuses the request, not single points.
            var stored = request.Points.Select(p => StoredPoint.From(p, collection.Create)).ToList();
            foreach (var point in stored)
            {
                collection.Points[point.Id] = point;
            }

            return Completed();
        }
    }

    internal PointsOperationResponse Delete(DeletePoints request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);
            switch (request.Points.PointsSelectorOneOfCase)
            {
                case PointsSelector.PointsSelectorOneOfOneofCase.Points:
                    foreach (var id in request.Points.Points.Ids)
                    {
                        collection.Points.Remove(Guid.Parse(id.Uuid));
                    }

                    break;
                case PointsSelector.PointsSelectorOneOfOneofCase.Filter:
                    foreach (var id in collection.Points.Values.Where(p => Matches(request.Points.Filter, p.Payload)).Select(p => p.Id).ToList())
                    {
                        collection.Points.Remove(id);
                    }

                    break;
                default:
                    throw Invalid("Wrong input: points selector is required");
            }

            return Completed();
        }
    }

    internal GetResponse Get(GetPoints request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);
            var response = new GetResponse();
            foreach (var id in request.Ids)
            {
                if (collection.Points.TryGetValue(Guid.Parse(id.Uuid), out var point))
                {
                    response.Result.Add(point.Retrieved(request.WithPayload, request.WithVectors));
                }
            }

            return response;
        }
    }

    internal CountResponse Count(CountPoints request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);
            return new CountResponse { Result = new CountResult { Count = (ulong)collection.Points.Values.Count(p => Matches(request.Filter, p.Payload)) } };
        }
    }

    internal ScrollResponse Scroll(ScrollPoints request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);
            var limit = request.HasLimit ? (int)request.Limit : 10;
            var ordered = collection.Points.Values
                .Where(p => Matches(request.Filter, p.Payload))
                .OrderBy(p => p.Id.ToString("D"), StringComparer.Ordinal)
                .SkipWhile(p => request.Offset is { } offset && string.CompareOrdinal(p.Id.ToString("D"), offset.Uuid) < 0)
                .Take(limit + 1)
                .ToList();
            var response = new ScrollResponse();
            response.Result.AddRange(ordered.Take(limit).Select(p => p.Retrieved(request.WithPayload, request.WithVectors)));
            if (ordered.Count > limit)
            {
                response.NextPageOffset = new PointId { Uuid = ordered[limit].Id.ToString("D") };
            }

            return response;
        }
    }

    internal QueryResponse Query(QueryPoints request, ServerCallContext call)
    {
        lock (_gate)
        {
            var collection = Resolve(request.CollectionName);
            var limit = request.HasLimit ? (int)request.Limit : 10;
            List<(StoredPoint Point, float Score)> ranked;
            if (request.Prefetch.Count > 0)
            {
                var lists = request.Prefetch.Select(p => Nearest(collection, p.Query, p.Using, p.Filter, p.HasLimit ? (int)p.Limit : 10)).ToList();
                ranked = Fuse(request.Query, lists, request.Filter);
            }
            else
            {
                ranked = Nearest(collection, request.Query, request.Using, request.Filter, limit);
            }

            var response = new QueryResponse();
            response.Result.AddRange(ranked.Take(limit).Select(r => r.Point.Scored(r.Score, request.WithPayload, request.WithVectors)));
            return response;
        }
    }

    // ---- semantics -------------------------------------------------------------------------------------

    private List<(StoredPoint Point, float Score)> Nearest(StoredCollection collection, global::Qdrant.Client.Grpc.Query? query, string vectorName, Filter? filter, int limit)
    {
        if (query?.VariantCase != global::Qdrant.Client.Grpc.Query.VariantOneofCase.Nearest)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"query {query?.VariantCase} is not modelled (only nearest, and fusion over prefetches)"));
        }

        var input = query.Nearest;
        var candidates = collection.Points.Values.Where(p => Matches(filter, p.Payload));
        if (input.VariantCase == VectorInput.VariantOneofCase.Dense)
        {
            var parameters = DenseParams(collection, vectorName);
            var target = input.Dense.Data.ToArray();
            if (target.Length != (int)parameters.Size)
            {
                throw Invalid($"Wrong input: Vector dimension error: expected dim: {parameters.Size}, got {target.Length}");
            }

            if (parameters.Distance == Distance.Cosine)
            {
                target = StoredPoint.Normalized(target);
            }

            var scored = candidates.Where(p => p.Dense.ContainsKey(vectorName)).Select(p => (Point: p, Score: Similarity(parameters.Distance, target, p.Dense[vectorName])));
            return [.. Order(parameters.Distance == Distance.Euclid ? scored.OrderBy(s => s.Score) : scored.OrderByDescending(s => s.Score)).Take(limit)];
        }

        if (input.VariantCase == VectorInput.VariantOneofCase.Sparse)
        {
            var parameters = collection.Create.SparseVectorsConfig?.Map.GetValueOrDefault(vectorName)
                ?? throw Invalid($"Wrong input: Not existing vector name error: {vectorName}");
            var holders = collection.Points.Values.Where(p => p.Sparse.ContainsKey(vectorName)).ToList();
            var idf = parameters.Modifier == Modifier.Idf ? InverseDocumentFrequencies(holders, vectorName, input.Sparse.Indices) : null;
            var scored = new List<(StoredPoint Point, float Score)>();
            foreach (var point in candidates)
            {
                if (!point.Sparse.TryGetValue(vectorName, out var vector))
                {
                    continue;
                }

                double score = 0;
                var overlap = false;
                for (var i = 0; i < input.Sparse.Indices.Count; i++)
                {
                    var at = vector.Indices.IndexOf(input.Sparse.Indices[i]);
                    if (at >= 0)
                    {
                        overlap = true;
                        score += input.Sparse.Values[i] * vector.Values[at] * (idf?[input.Sparse.Indices[i]] ?? 1.0);
                    }
                }

                // The sparse index finds only points that share a dimension with the query.
                if (overlap)
                {
                    scored.Add((point, (float)score));
                }
            }

            return [.. Order(scored.OrderByDescending(s => s.Score)).Take(limit)];
        }

        throw new RpcException(new Status(StatusCode.Unimplemented, $"nearest {input.VariantCase} is not modelled"));
    }

    /// <summary>Qdrant's RRF: each prefetch adds 1 / ((position + 1) / weight + k − 1) to a point; k is 2 by default.</summary>
    private List<(StoredPoint Point, float Score)> Fuse(global::Qdrant.Client.Grpc.Query? query, List<List<(StoredPoint Point, float Score)>> lists, Filter? filter)
    {
        uint k = 2;
        IReadOnlyList<float>? weights = null;
        if (query?.VariantCase == global::Qdrant.Client.Grpc.Query.VariantOneofCase.Rrf)
        {
            k = query.Rrf.HasK ? query.Rrf.K : 2;
            if (query.Rrf.Weights.Count > 0)
            {
                weights = query.Rrf.Weights;
                if (weights.Count != lists.Count)
                {
                    throw Invalid($"Wrong input: Number of weights in RRF should match number of pre-fetches: got {weights.Count}, expected {lists.Count}");
                }
            }
        }
        else if (!(query?.VariantCase == global::Qdrant.Client.Grpc.Query.VariantOneofCase.Fusion && query.Fusion == Fusion.Rrf))
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"fusion {query?.VariantCase} is not modelled (only RRF)"));
        }

        var sums = new Dictionary<Guid, (StoredPoint Point, float Score)>();
        for (var l = 0; l < lists.Count; l++)
        {
            var weight = weights?[l] ?? 1f;
            for (var position = 0; position < lists[l].Count; position++)
            {
                var point = lists[l][position].Point;
                var add = weight <= 0 ? 0f : 1f / (((position + 1) / weight) + k - 1f);
                sums[point.Id] = sums.TryGetValue(point.Id, out var held) ? (point, held.Score + add) : (point, add);
            }
        }

        return [.. Order(sums.Values.Where(s => Matches(filter, s.Point.Payload)).OrderByDescending(s => s.Score))];
    }

    /// <summary>Equal scores come out in an order Qdrant leaves open: shuffled, so a client cannot lean on one.</summary>
    private IEnumerable<(StoredPoint Point, float Score)> Order(IOrderedEnumerable<(StoredPoint Point, float Score)> ordered) =>
        ordered.ThenBy(_ => _ties.Next());

    private static Dictionary<uint, double> InverseDocumentFrequencies(List<StoredPoint> holders, string vectorName, IEnumerable<uint> indices)
    {
        var result = new Dictionary<uint, double>();
        var total = holders.Count;
        foreach (var index in indices.Distinct())
        {
            var containing = holders.Count(p => p.Sparse[vectorName].Indices.Contains(index));
            result[index] = Math.Log(1 + ((total - containing + 0.5) / (containing + 0.5)));
        }

        return result;
    }

    private static float Similarity(Distance distance, float[] query, float[] stored)
    {
        double dot = 0, squared = 0;
        for (var i = 0; i < query.Length; i++)
        {
            dot += query[i] * stored[i];
            var d = query[i] - stored[i];
            squared += d * d;
        }

        return distance == Distance.Euclid ? (float)Math.Sqrt(squared) : (float)dot;
    }

    internal static bool Matches(Filter? filter, Google.Protobuf.Collections.MapField<string, Value> payload)
    {
        if (filter is null)
        {
            return true;
        }

        if (filter.Should.Count > 0 || filter.MustNot.Count > 0 || filter.MinShould is not null)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "only 'must' filters are modelled"));
        }

        foreach (var condition in filter.Must)
        {
            if (condition.ConditionOneOfCase != Condition.ConditionOneOfOneofCase.Field || condition.Field.Match?.MatchValueCase != Match.MatchValueOneofCase.Keyword)
            {
                throw new RpcException(new Status(StatusCode.Unimplemented, "only keyword match conditions are modelled"));
            }

            var wanted = condition.Field.Match.Keyword;
            if (!payload.TryGetValue(condition.Field.Key, out var value)
                || !(value.HasStringValue ? value.StringValue == wanted : value.ListValue?.Values.Any(v => v.HasStringValue && v.StringValue == wanted) == true))
            {
                return false;
            }
        }

        return true;
    }

    private static VectorParams DenseParams(StoredCollection collection, string name)
    {
        var config = collection.Create.VectorsConfig;
        var parameters = config.ConfigCase == VectorsConfig.ConfigOneofCase.ParamsMap
            ? config.ParamsMap.Map.GetValueOrDefault(name)
            : name.Length == 0 ? config.Params : null;
        return parameters ?? throw Invalid($"Wrong input: Not existing vector name error: {name}");
    }

    private static string SparseName(StoredCollection collection) => collection.Create.SparseVectorsConfig?.Map.Keys.FirstOrDefault() ?? string.Empty;

    private StoredCollection Resolve(string name) =>
        _collections.TryGetValue(_aliases.GetValueOrDefault(name, name), out var collection) ? collection : throw NotFound(name);

    private static RpcException NotFound(string collection) =>
        new(new Status(StatusCode.NotFound, $"Not found: Collection `{collection}` doesn't exist!"));

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    private static PointsOperationResponse Completed() =>
        new() { Result = new UpdateResult { Status = UpdateStatus.Completed, OperationId = 1 } };

    private sealed class StoredCollection(CreateCollection create)
    {
        public CreateCollection Create { get; } = create;

        public Dictionary<Guid, StoredPoint> Points { get; } = [];

        public HashSet<string> KeywordIndexes { get; } = new(StringComparer.Ordinal);

        public List<SnapshotDescription> Snapshots { get; } = [];
    }

    private sealed class StoredPoint
    {
        public Guid Id { get; private init; }

        public Dictionary<string, float[]> Dense { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, SparseVector> Sparse { get; } = new(StringComparer.Ordinal);

        public Google.Protobuf.Collections.MapField<string, Value> Payload { get; } = [];

        public int Size { get; private init; }

        public static StoredPoint From(PointStruct point, CreateCollection create)
        {
            if (point.Id?.PointIdOptionsCase != PointId.PointIdOptionsOneofCase.Uuid || !Guid.TryParse(point.Id.Uuid, out var id))
            {
                throw Invalid("Wrong input: point id must be a UUID here");
            }

            var stored = new StoredPoint { Id = id, Size = point.CalculateSize() };
            if (point.Vectors?.VectorsOptionsCase != Vectors.VectorsOptionsOneofCase.Vectors_)
            {
                throw Invalid("Wrong input: this collection has named vectors; the point must name its vectors");
            }

            foreach (var (name, vector) in point.Vectors.Vectors_.Vectors)
            {
                switch (vector.VectorCase)
                {
                    case Vector.VectorOneofCase.Dense:
                        var parameters = create.VectorsConfig.ParamsMap?.Map.GetValueOrDefault(name)
                            ?? throw Invalid($"Wrong input: Not existing vector name error: {name}");
                        var data = vector.Dense.Data.ToArray();
                        if (data.Length != (int)parameters.Size)
                        {
                            throw Invalid($"Wrong input: Vector dimension error: expected dim: {parameters.Size}, got {data.Length}");
                        }

                        stored.Dense[name] = parameters.Distance == Distance.Cosine ? Normalized(data) : data;
                        break;
                    case Vector.VectorOneofCase.Sparse:
                        if (create.SparseVectorsConfig?.Map.ContainsKey(name) != true)
                        {
                            throw Invalid($"Wrong input: Not existing vector name error: {name}");
                        }

                        if (vector.Sparse.Indices.Count != vector.Sparse.Values.Count || vector.Sparse.Indices.Distinct().Count() != vector.Sparse.Indices.Count)
                        {
                            throw Invalid("Wrong input: sparse vector indices must be unique and as many as its values");
                        }

                        stored.Sparse[name] = vector.Sparse.Clone();
                        break;
                    default:
                        throw new RpcException(new Status(StatusCode.Unimplemented, $"vector kind {vector.VectorCase} is not modelled"));
                }
            }

            if (create.VectorsConfig.ParamsMap?.Map.Keys.Any(name => !stored.Dense.ContainsKey(name)) == true)
            {
                throw Invalid("Wrong input: every dense vector of the collection is required");
            }

            stored.Payload.Add(point.Payload);
            return stored;
        }

        public static float[] Normalized(float[] vector)
        {
            var norm = Math.Sqrt(vector.Sum(v => (double)v * v));
            return norm == 0 ? vector : [.. vector.Select(v => (float)(v / norm))];
        }

        public RetrievedPoint Retrieved(WithPayloadSelector? withPayload, WithVectorsSelector? withVectors)
        {
            var point = new RetrievedPoint { Id = new PointId { Uuid = Id.ToString("D") } };
            if (withPayload?.Enable == true)
            {
                point.Payload.Add(Payload);
            }

            point.Vectors = VectorsFor(withVectors);
            return point;
        }

        public ScoredPoint Scored(float score, WithPayloadSelector? withPayload, WithVectorsSelector? withVectors)
        {
            var point = new ScoredPoint { Id = new PointId { Uuid = Id.ToString("D") }, Score = score, Version = 1 };
            if (withPayload?.Enable == true)
            {
                point.Payload.Add(Payload);
            }

            point.Vectors = VectorsFor(withVectors);
            return point;
        }

        private VectorsOutput? VectorsFor(WithVectorsSelector? selector)
        {
            var names = selector?.SelectorOptionsCase switch
            {
                WithVectorsSelector.SelectorOptionsOneofCase.Enable when selector.Enable => Dense.Keys.Concat(Sparse.Keys).ToList(),
                WithVectorsSelector.SelectorOptionsOneofCase.Include => selector.Include.Names.ToList(),
                _ => null,
            };
            if (names is null)
            {
                return null;
            }

            var output = new NamedVectorsOutput();
            foreach (var name in names)
            {
                if (Dense.TryGetValue(name, out var dense))
                {
                    output.Vectors[name] = new VectorOutput { Dense = new DenseVector { Data = { dense } } };
                }
                else if (Sparse.TryGetValue(name, out var sparse))
                {
                    output.Vectors[name] = new VectorOutput { Sparse = sparse.Clone() };
                }
            }

            return new VectorsOutput { Vectors = output };
        }
    }
}
