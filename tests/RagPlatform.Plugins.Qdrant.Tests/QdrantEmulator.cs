using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagPlatform.Sdk.Conformance.Http;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>
/// OUR in-memory model of the Qdrant REST semantics the plugin relies on, written from Qdrant's OpenAPI spec
/// (qdrant/qdrant docs/redoc/master/openapi.json) and its documentation: collections with size/distance/metadata,
/// keyword payload indexes, upsert (Cosine vectors normalised on write, as Qdrant does), retrieve, delete by ids or
/// filter, query (Euclid scores are distances, ascending), exact count, scroll with next_page_offset, aliases, and
/// the request size limit (32 MB by default). It proves the plugin speaks the documented protocol; it does not
/// prove a real Qdrant behaves identically.
/// </summary>
internal sealed partial class QdrantEmulator
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);

    /// <summary>Bodies larger than this are refused with 413, like Qdrant's max_request_size_mb.</summary>
    public long MaxRequestBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>When set, requests without this api-key header get 401.</summary>
    public string? ApiKey { get; init; }

    public int CollectionCount
    {
        get
        {
            lock (_lock)
            {
                return _collections.Count;
            }
        }
    }

    public CannedResponse Handle(RecordedRequest request)
    {
        if (ApiKey is not null && request.Header("api-key") != ApiKey)
        {
            return new CannedResponse(401, "Must provide an API key or an Authorization bearer token");
        }

        if (request.Body.Length > MaxRequestBytes)
        {
            return new CannedResponse(413, $"JSON payload ({request.Body.Length} bytes) is larger than allowed (limit: {MaxRequestBytes} bytes).");
        }

        var path = request.Path;
        var body = request.Body.Length > 0 ? JsonNode.Parse(request.Body)!.AsObject() : [];
        lock (_lock)
        {
            if (path == "/collections/aliases" && request.Method == "POST")
            {
                return ChangeAliases(body);
            }

            var match = CollectionRoute().Match(path);
            if (!match.Success)
            {
                return Error(404, $"Not found: {path}");
            }

            var name = Uri.UnescapeDataString(match.Groups["name"].Value);
            var rest = match.Groups["rest"].Value;
            if (rest.Length == 0)
            {
                return request.Method switch
                {
                    "PUT" => CreateCollection(name, body),
                    "GET" => GetCollection(name),
                    "DELETE" => DeleteCollection(name),
                    _ => Error(405, "Method not allowed"),
                };
            }

            if (!TryResolve(name, out var collection))
            {
                return Error(404, $"Not found: Collection `{name}` doesn't exist!");
            }

            return (request.Method, rest) switch
            {
                ("PUT", "/index") => CreateIndex(collection, body),
                ("PUT", "/points") => Upsert(collection, body),
                ("POST", "/points") => Retrieve(collection, body),
                ("POST", "/points/delete") => Delete(collection, body),
                ("POST", "/points/query") => Query(collection, body),
                ("POST", "/points/count") => Ok(new JsonObject { ["count"] = collection.Points.Values.Count(p => Matches(p, body["filter"])) }),
                ("POST", "/points/scroll") => Scroll(collection, body),
                _ => Error(404, $"Not found: {request.Method} {path}"),
            };
        }
    }

    private CannedResponse CreateCollection(string name, JsonObject body)
    {
        if (_collections.ContainsKey(name) || _aliases.ContainsKey(name))
        {
            return Error(409, $"Wrong input: Collection `{name}` already exists!");
        }

        var vectors = body["vectors"]?.AsObject();
        var size = vectors?["size"]?.GetValue<int>() ?? 0;
        var distance = vectors?["distance"]?.GetValue<string>();
        if (size < 1 || distance is not ("Cosine" or "Dot" or "Euclid" or "Manhattan"))
        {
            return Error(400, "Format error in JSON body: vectors: data did not match any variant of untagged enum VectorsConfig");
        }

        _collections[name] = new Collection(size, distance, body["metadata"]?.DeepClone(), body["on_disk_payload"]?.GetValue<bool>() ?? true);
        return Ok(true);
    }

    private CannedResponse GetCollection(string name)
    {
        if (!TryResolve(name, out var c))
        {
            return Error(404, $"Not found: Collection `{name}` doesn't exist!");
        }

        var schema = new JsonObject();
        foreach (var field in c.Indexes)
        {
            schema[field] = new JsonObject { ["data_type"] = "keyword", ["points"] = c.Points.Count };
        }

        return Ok(new JsonObject
        {
            ["status"] = "green",
            ["optimizer_status"] = "ok",
            ["indexed_vectors_count"] = 0,
            ["points_count"] = c.Points.Count,
            ["segments_count"] = 1,
            ["config"] = new JsonObject
            {
                ["params"] = new JsonObject
                {
                    ["vectors"] = new JsonObject { ["size"] = c.Size, ["distance"] = c.Distance },
                    ["shard_number"] = 1,
                    ["replication_factor"] = 1,
                    ["write_consistency_factor"] = 1,
                    ["on_disk_payload"] = c.OnDiskPayload,
                },
                ["hnsw_config"] = new JsonObject { ["m"] = 16, ["ef_construct"] = 100, ["full_scan_threshold"] = 10000 },
                ["optimizer_config"] = new JsonObject { ["deleted_threshold"] = 0.2, ["vacuum_min_vector_number"] = 1000 },
                ["wal_config"] = new JsonObject { ["wal_capacity_mb"] = 32, ["wal_segments_ahead"] = 0 },
                ["quantization_config"] = null,
                ["metadata"] = c.Metadata?.DeepClone(),
            },
            ["payload_schema"] = schema,
        });
    }

    private CannedResponse DeleteCollection(string name)
    {
        var removed = _collections.Remove(name);
        foreach (var alias in _aliases.Where(a => a.Value == name).Select(a => a.Key).ToList())
        {
            _aliases.Remove(alias);
        }

        return Ok(removed);
    }

    private static CannedResponse CreateIndex(Collection collection, JsonObject body)
    {
        var field = body["field_name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(field))
        {
            return Error(400, "Format error in JSON body: missing field `field_name`");
        }

        collection.Indexes.Add(field);
        return Ok(new JsonObject { ["operation_id"] = collection.NextOperation(), ["status"] = "completed" });
    }

    private static CannedResponse Upsert(Collection collection, JsonObject body)
    {
        if (body["points"] is not JsonArray points)
        {
            return Error(400, "Format error in JSON body: data did not match any variant of untagged enum PointInsertOperations");
        }

        var parsed = new List<(string Id, float[] Vector, JsonObject Payload)>();
        foreach (var node in points)
        {
            var point = node!.AsObject();
            var id = point["id"]!.ToString();
            if (!Guid.TryParse(id, out _) && !ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return Error(400, $"Format error in JSON body: value {id} is not a valid point ID, valid values are either an unsigned integer or a UUID");
            }

            var vector = point["vector"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            if (vector.Length != collection.Size)
            {
                return Error(400, $"Wrong input: Vector dimension error: expected dim: {collection.Size}, got {vector.Length}");
            }

            if (collection.Distance == "Cosine")
            {
                var norm = MathF.Sqrt(vector.Sum(v => v * v));
                if (norm > 0)
                {
                    for (var i = 0; i < vector.Length; i++)
                    {
                        vector[i] /= norm;
                    }
                }
            }

            parsed.Add((id, vector, point["payload"]?.DeepClone().AsObject() ?? []));
        }

        // Points of one request are applied in order, so the last of duplicate ids wins.
        foreach (var (id, vector, payload) in parsed)
        {
            collection.Points[id] = new StoredPoint(id, vector, payload);
        }

        return Ok(new JsonObject { ["operation_id"] = collection.NextOperation(), ["status"] = "completed" });
    }

    private static CannedResponse Retrieve(Collection collection, JsonObject body)
    {
        var result = new JsonArray();
        foreach (var id in body["ids"]!.AsArray().Select(i => i!.ToString()))
        {
            if (collection.Points.TryGetValue(id, out var point))
            {
                result.Add(Record(point, body["with_payload"], body["with_vector"], score: null));
            }
        }

        return Ok(result);
    }

    private static CannedResponse Delete(Collection collection, JsonObject body)
    {
        if (body["points"] is JsonArray ids)
        {
            foreach (var id in ids)
            {
                collection.Points.Remove(id!.ToString());
            }
        }
        else if (body["filter"] is JsonObject filter)
        {
            foreach (var id in collection.Points.Values.Where(p => Matches(p, filter)).Select(p => p.Id).ToList())
            {
                collection.Points.Remove(id);
            }
        }
        else
        {
            return Error(400, "Format error in JSON body: data did not match any variant of untagged enum PointsSelector");
        }

        return Ok(new JsonObject { ["operation_id"] = collection.NextOperation(), ["status"] = "completed" });
    }

    private static CannedResponse Query(Collection collection, JsonObject body)
    {
        var query = body["query"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        if (query.Length != collection.Size)
        {
            return Error(400, $"Wrong input: Vector dimension error: expected dim: {collection.Size}, got {query.Length}");
        }

        var limit = body["limit"]?.GetValue<int>() ?? 10;
        var queryNorm = Math.Sqrt(query.Sum(v => (double)v * v));
        var scored = collection.Points.Values
            .Where(p => Matches(p, body["filter"]))
            .Select(p => (Point: p, Score: Score(collection.Distance, query, queryNorm, p.Vector)));
        var ordered = collection.Distance == "Euclid"
            ? scored.OrderBy(s => s.Score).ThenBy(s => s.Point.Id, StringComparer.Ordinal)
            : scored.OrderByDescending(s => s.Score).ThenBy(s => s.Point.Id, StringComparer.Ordinal);
        var points = new JsonArray();
        foreach (var (point, score) in ordered.Take(limit))
        {
            points.Add(Record(point, body["with_payload"], body["with_vector"], score));
        }

        return Ok(new JsonObject { ["points"] = points });
    }

    private static double Score(string distance, float[] query, double queryNorm, float[] vector)
    {
        double dot = 0, squared = 0;
        for (var i = 0; i < query.Length; i++)
        {
            dot += (double)query[i] * vector[i];
            var d = (double)query[i] - vector[i];
            squared += d * d;
        }

        return distance switch
        {
            "Cosine" => queryNorm == 0 ? 0 : dot / queryNorm,
            "Dot" => dot,
            _ => Math.Sqrt(squared),
        };
    }

    private static CannedResponse Scroll(Collection collection, JsonObject body)
    {
        var limit = body["limit"]?.GetValue<int>() ?? 10;
        var offset = body["offset"]?.ToString();
        var matching = collection.Points.Values
            .Where(p => Matches(p, body["filter"]))
            .Where(p => offset is null || string.CompareOrdinal(p.Id, offset) >= 0)
            .OrderBy(p => p.Id, StringComparer.Ordinal)
            .Take(limit + 1)
            .ToList();
        var points = new JsonArray();
        foreach (var point in matching.Take(limit))
        {
            points.Add(Record(point, body["with_payload"] ?? true, body["with_vector"], score: null));
        }

        return Ok(new JsonObject
        {
            ["points"] = points,
            ["next_page_offset"] = matching.Count > limit ? matching[limit].Id : null,
        });
    }

    private CannedResponse ChangeAliases(JsonObject body)
    {
        // All actions apply together or not at all.
        var aliases = new Dictionary<string, string>(_aliases, StringComparer.Ordinal);
        foreach (var action in body["actions"]!.AsArray().Select(a => a!.AsObject()))
        {
            if (action["create_alias"] is JsonObject create)
            {
                var target = create["collection_name"]!.GetValue<string>();
                var alias = create["alias_name"]!.GetValue<string>();
                if (!_collections.ContainsKey(target))
                {
                    return Error(404, $"Not found: Collection `{target}` doesn't exist!");
                }

                if (aliases.ContainsKey(alias) || _collections.ContainsKey(alias))
                {
                    return Error(409, $"Wrong input: Alias `{alias}` already exists!");
                }

                aliases[alias] = target;
            }
            else if (action["delete_alias"] is JsonObject delete)
            {
                aliases.Remove(delete["alias_name"]!.GetValue<string>());
            }
            else if (action["rename_alias"] is JsonObject rename)
            {
                var old = rename["old_alias_name"]!.GetValue<string>();
                if (!aliases.Remove(old, out var target))
                {
                    return Error(404, $"Not found: Alias `{old}` doesn't exist!");
                }

                aliases[rename["new_alias_name"]!.GetValue<string>()] = target;
            }
            else
            {
                return Error(400, "Format error in JSON body: unknown alias operation");
            }
        }

        _aliases.Clear();
        foreach (var (alias, target) in aliases)
        {
            _aliases[alias] = target;
        }

        return Ok(true);
    }

    private bool TryResolve(string name, out Collection collection)
    {
        if (_aliases.TryGetValue(name, out var target))
        {
            name = target;
        }

        return _collections.TryGetValue(name, out collection!);
    }

    private static JsonObject Record(StoredPoint point, JsonNode? withPayload, JsonNode? withVector, double? score)
    {
        var record = new JsonObject { ["id"] = point.Id };
        if (score is not null)
        {
            record["version"] = 1;
            record["score"] = (float)score.Value;
        }

        record["payload"] = withPayload?.GetValueKind() == JsonValueKind.True ? point.Payload.DeepClone() : null;
        record["vector"] = withVector?.GetValueKind() == JsonValueKind.True ? new JsonArray([.. point.Vector.Select(v => (JsonNode)v)]) : null;
        return record;
    }

    // ---- filters (Filter: must / should / must_not of FieldCondition, HasIdCondition or nested Filter) ----

    private static bool Matches(StoredPoint point, JsonNode? filter)
    {
        if (filter is not JsonObject f)
        {
            return true;
        }

        var must = Conditions(f["must"]);
        var should = Conditions(f["should"]);
        var mustNot = Conditions(f["must_not"]);
        return must.All(c => Condition(point, c))
            && (should.Count == 0 || should.Any(c => Condition(point, c)))
            && !mustNot.Any(c => Condition(point, c));
    }

    private static List<JsonObject> Conditions(JsonNode? node) => node switch
    {
        JsonArray array => [.. array.Select(c => c!.AsObject())],
        JsonObject single => [single],
        _ => [],
    };

    private static bool Condition(StoredPoint point, JsonObject condition)
    {
        if (condition["has_id"] is JsonArray ids)
        {
            return ids.Any(i => i!.ToString() == point.Id);
        }

        if (condition["key"] is null)
        {
            return Matches(point, condition);
        }

        var values = Values(point.Payload, condition["key"]!.GetValue<string>());
        if (condition["match"] is JsonObject match)
        {
            if (match["value"] is JsonNode value)
            {
                return values.Any(v => JsonNode.DeepEquals(v, value));
            }

            if (match["any"] is JsonArray any)
            {
                return values.Any(v => any.Any(a => JsonNode.DeepEquals(v, a)));
            }
        }

        if (condition["range"] is JsonObject range)
        {
            return values.Where(v => v?.GetValueKind() == JsonValueKind.Number).Select(v => v!.GetValue<double>()).Any(x =>
                (range["gte"] is null || x >= range["gte"]!.GetValue<double>()) && (range["lte"] is null || x <= range["lte"]!.GetValue<double>())
                && (range["gt"] is null || x > range["gt"]!.GetValue<double>()) && (range["lt"] is null || x < range["lt"]!.GetValue<double>()));
        }

        throw new NotSupportedException("The emulator knows match (value/any), range, has_id and nested filters only: " + condition.ToJsonString());
    }

    /// <summary>The values at a dotted key path; arrays match when any element does (Qdrant's rule).</summary>
    private static List<JsonNode?> Values(JsonObject payload, string key)
    {
        List<JsonNode?> current = [payload];
        foreach (var part in key.Split('.'))
        {
            current = [.. current.OfType<JsonObject>().Select(o => o[part]).Where(v => v is not null)];
        }

        return [.. current.SelectMany(v => v is JsonArray array ? array.AsEnumerable() : [v])];
    }

    private static CannedResponse Ok(JsonNode? result) =>
        CannedResponse.Json(200, new JsonObject { ["result"] = result, ["status"] = "ok", ["time"] = 0.000123 }.ToJsonString());

    private static CannedResponse Error(int status, string message) =>
        CannedResponse.Json(status, new JsonObject { ["status"] = new JsonObject { ["error"] = message }, ["time"] = 0.000045 }.ToJsonString());

    [GeneratedRegex("^/collections/(?<name>[^/]+)(?<rest>/.*)?$")]
    private static partial Regex CollectionRoute();

    private sealed record StoredPoint(string Id, float[] Vector, JsonObject Payload);

    private sealed class Collection(int size, string distance, JsonNode? metadata, bool onDiskPayload)
    {
        private long _operation;

        public int Size { get; } = size;

        public string Distance { get; } = distance;

        public JsonNode? Metadata { get; } = metadata;

        public bool OnDiskPayload { get; } = onDiskPayload;

        public HashSet<string> Indexes { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, StoredPoint> Points { get; } = new(StringComparer.Ordinal);

        public long NextOperation() => ++_operation;
    }
}
