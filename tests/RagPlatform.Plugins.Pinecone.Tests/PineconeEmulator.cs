using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagPlatform.Sdk.Conformance.Http;

namespace RagPlatform.Plugins.Pinecone.Tests;

/// <summary>
/// OUR in-memory model of the Pinecone REST semantics the plugin relies on, written from Pinecone's API reference
/// (docs.pinecone.io/reference/api/2025-10: control plane create/describe/list/delete index; data plane upsert,
/// fetch, list, delete, query, describe_index_stats) and its documented limits (1,000 records and 2 MB per upsert,
/// 40 KB metadata per record, topK ≤ 10,000, list pages ≤ 100). Index hosts are served on the same loopback port
/// under <c>/index/&lt;name&gt;</c>. It proves the plugin speaks the documented protocol; it does not prove the real
/// service behaves identically (e.g. its eventual consistency is not modelled: every write is visible at once).
/// </summary>
internal sealed partial class PineconeEmulator
{
    public const long MaxRequestBytes = 2L * 1024 * 1024;
    public const int MaxMetadataBytes = 40 * 1024;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Index> _indexes = new(StringComparer.Ordinal);

    public required string ApiKey { get; init; }

    public required string Authority { get; init; }

    /// <summary>A new index answers "not ready" to this many describes first, so readiness polling is exercised.</summary>
    public int DescribesBeforeReady { get; set; } = 1;

    public IReadOnlyCollection<string> IndexNames
    {
        get
        {
            lock (_lock)
            {
                return [.. _indexes.Keys];
            }
        }
    }

    public CannedResponse Handle(RecordedRequest request)
    {
        if (request.Header("api-key") != ApiKey)
        {
            return new CannedResponse(401, "{\"error\":{\"code\":\"UNAUTHENTICATED\",\"message\":\"Invalid API Key\"},\"status\":401}");
        }

        if (string.IsNullOrEmpty(request.Header("x-pinecone-api-version")))
        {
            return ControlError(400, "INVALID_ARGUMENT", "Missing X-Pinecone-API-Version header");
        }

        var body = request.Body.Length > 0 ? JsonNode.Parse(request.Body)!.AsObject() : [];
        lock (_lock)
        {
            var data = DataRoute().Match(request.Path);
            if (data.Success)
            {
                if (!_indexes.TryGetValue(data.Groups["index"].Value, out var index))
                {
                    return DataError(404, 5, "Index not found");
                }

                return (request.Method, data.Groups["op"].Value) switch
                {
                    ("POST", "vectors/upsert") => Upsert(index, body, request.Body.Length),
                    ("GET", "vectors/fetch") => Fetch(index, Query(request.Query)),
                    ("GET", "vectors/list") => List(index, Query(request.Query)),
                    ("POST", "vectors/delete") => Delete(index, body),
                    ("POST", "query") => QueryVectors(index, body),
                    ("POST", "describe_index_stats") => Stats(index),
                    _ => DataError(404, 5, "Not found"),
                };
            }

            return (request.Method, request.Path) switch
            {
                ("GET", "/indexes") => Json(200, new JsonObject { ["indexes"] = new JsonArray([.. _indexes.Values.Select(Model)]) }),
                ("POST", "/indexes") => CreateIndex(body),
                ("GET", _) when request.Path.StartsWith("/indexes/", StringComparison.Ordinal) => DescribeIndex(request.Path["/indexes/".Length..]),
                ("DELETE", _) when request.Path.StartsWith("/indexes/", StringComparison.Ordinal) => DeleteIndex(request.Path["/indexes/".Length..]),
                _ => ControlError(404, "NOT_FOUND", "Not found"),
            };
        }
    }

    // ---- control plane ---------------------------------------------------------------------------------

    private CannedResponse CreateIndex(JsonObject body)
    {
        var name = body["name"]?.GetValue<string>() ?? string.Empty;
        if (!IndexName().IsMatch(name))
        {
            return ControlError(400, "INVALID_ARGUMENT", "Name must consist of lower case alphanumeric characters or '-', and must not exceed 45 characters");
        }

        var metric = body["metric"]?.GetValue<string>() ?? "cosine";
        var dimension = body["dimension"]?.GetValue<int>() ?? 0;
        if (metric is not ("cosine" or "euclidean" or "dotproduct") || dimension is < 1 or > 20_000 || body["spec"]?["serverless"] is not JsonObject serverless)
        {
            return ControlError(400, "INVALID_ARGUMENT", "Invalid index spec: dimension, metric and spec.serverless {cloud, region} are required");
        }

        if (_indexes.ContainsKey(name))
        {
            return ControlError(409, "ALREADY_EXISTS", $"Resource {name} already exists");
        }

        var index = new Index(name, dimension, metric, serverless["cloud"]!.GetValue<string>(), serverless["region"]!.GetValue<string>(), DescribesBeforeReady);
        _indexes[name] = index;
        return Json(201, Model(index));
    }

    private CannedResponse DescribeIndex(string name)
    {
        if (!_indexes.TryGetValue(Uri.UnescapeDataString(name), out var index))
        {
            return ControlError(404, "NOT_FOUND", $"Resource {name} not found");
        }

        var model = Model(index);
        index.PendingDescribes = Math.Max(0, index.PendingDescribes - 1);
        return Json(200, model);
    }

    private CannedResponse DeleteIndex(string name) =>
        _indexes.Remove(Uri.UnescapeDataString(name)) ? new CannedResponse(202) : ControlError(404, "NOT_FOUND", $"Resource {name} not found");

    private JsonObject Model(Index index) => new()
    {
        ["name"] = index.Name,
        ["vector_type"] = "dense",
        ["metric"] = index.Metric,
        ["dimension"] = index.Dimension,
        ["status"] = new JsonObject { ["ready"] = index.PendingDescribes == 0, ["state"] = index.PendingDescribes == 0 ? "Ready" : "Initializing" },
        ["host"] = $"{Authority}/index/{index.Name}",
        ["spec"] = new JsonObject { ["serverless"] = new JsonObject { ["cloud"] = index.Cloud, ["region"] = index.Region } },
        ["deletion_protection"] = "disabled",
        ["tags"] = new JsonObject { ["managed-by"] = "ragplatform" },
    };

    // ---- data plane ------------------------------------------------------------------------------------

    private static CannedResponse Upsert(Index index, JsonObject body, int bodyBytes)
    {
        if (bodyBytes > MaxRequestBytes)
        {
            return DataError(400, 3, $"Request size {bodyBytes / 1024.0 / 1024.0:F1}MB exceeds the maximum supported size of 2MB");
        }

        var vectors = body["vectors"]?.AsArray() ?? [];
        if (vectors.Count > 1000)
        {
            return DataError(400, 3, $"Batch size {vectors.Count} exceeds the maximum of 1000 vectors per upsert");
        }

        var parsed = new List<Record>();
        foreach (var node in vectors)
        {
            var record = node!.AsObject();
            var id = record["id"]?.GetValue<string>() ?? string.Empty;
            var values = record["values"]?.AsArray().Select(v => v!.GetValue<float>()).ToArray() ?? [];
            if (id.Length is 0 or > 512)
            {
                return DataError(400, 3, "Vector ID must be 1-512 characters");
            }

            if (values.Length != index.Dimension)
            {
                return DataError(400, 3, $"Vector dimension {values.Length} does not match the dimension of the index {index.Dimension}");
            }

            var metadata = record["metadata"]?.AsObject();
            if (metadata is not null)
            {
                var size = Encoding.UTF8.GetByteCount(metadata.ToJsonString());
                if (size > MaxMetadataBytes)
                {
                    return DataError(400, 3, $"Metadata size is {size} bytes, which exceeds the limit of {MaxMetadataBytes} bytes per vector");
                }

                foreach (var (key, value) in metadata)
                {
                    var kind = value?.GetValueKind();
                    var valid = kind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
                        || (value is JsonArray list && list.All(e => e?.GetValueKind() == JsonValueKind.String));
                    if (!valid)
                    {
                        return DataError(400, 3, $"Metadata value for field '{key}' must be a string, number, boolean or list of strings");
                    }
                }
            }

            parsed.Add(new Record(id, values, (JsonObject?)metadata?.DeepClone()));
        }

        var ns = Namespace(index, body, create: true)!;
        foreach (var record in parsed)
        {
            ns[record.Id] = record;
        }

        return Json(200, new JsonObject { ["upsertedCount"] = parsed.Count });
    }

    private static CannedResponse Fetch(Index index, Dictionary<string, List<string>> query)
    {
        var name = query.GetValueOrDefault("namespace")?.FirstOrDefault() ?? string.Empty;
        var vectors = new JsonObject();
        if (index.Namespaces.TryGetValue(name, out var ns))
        {
            foreach (var id in query.GetValueOrDefault("ids") ?? [])
            {
                if (ns.TryGetValue(id, out var record))
                {
                    vectors[id] = RecordJson(record, withValues: true, withMetadata: true, score: null);
                }
            }
        }

        return Json(200, new JsonObject { ["vectors"] = vectors, ["namespace"] = name, ["usage"] = new JsonObject { ["readUnits"] = 1 } });
    }

    private static CannedResponse List(Index index, Dictionary<string, List<string>> query)
    {
        var name = query.GetValueOrDefault("namespace")?.FirstOrDefault() ?? string.Empty;
        var limit = int.Parse(query.GetValueOrDefault("limit")?.FirstOrDefault() ?? "100", CultureInfo.InvariantCulture);
        if (limit is < 1 or > 100)
        {
            return DataError(400, 3, "limit must be between 1 and 100");
        }

        var prefix = query.GetValueOrDefault("prefix")?.FirstOrDefault() ?? string.Empty;
        var token = query.GetValueOrDefault("paginationToken")?.FirstOrDefault();
        var after = token is null ? null : Encoding.UTF8.GetString(Convert.FromBase64String(token));
        var ids = (index.Namespaces.TryGetValue(name, out var ns) ? ns.Keys : (IEnumerable<string>)[])
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal) && (after is null || string.CompareOrdinal(id, after) > 0))
            .Order(StringComparer.Ordinal)
            .Take(limit + 1)
            .ToList();
        var result = new JsonObject
        {
            ["vectors"] = new JsonArray([.. ids.Take(limit).Select(id => (JsonNode)new JsonObject { ["id"] = id })]),
            ["namespace"] = name,
            ["usage"] = new JsonObject { ["readUnits"] = 1 },
        };
        if (ids.Count > limit)
        {
            result["pagination"] = new JsonObject { ["next"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(ids[limit - 1])) };
        }

        return Json(200, result);
    }

    private static CannedResponse Delete(Index index, JsonObject body)
    {
        var name = body["namespace"]?.GetValue<string>() ?? string.Empty;
        if (!index.Namespaces.TryGetValue(name, out var ns))
        {
            return DataError(404, 5, "Namespace not found");
        }

        if (body["deleteAll"]?.GetValue<bool>() == true)
        {
            // Deleting every record of a namespace deletes the namespace itself.
            index.Namespaces.Remove(name);
        }
        else if (body["ids"] is JsonArray ids)
        {
            if (ids.Count > 1000)
            {
                return DataError(400, 3, "A delete request can contain at most 1000 ids");
            }

            foreach (var id in ids)
            {
                ns.Remove(id!.GetValue<string>());
            }
        }
        else if (body["filter"] is JsonObject filter)
        {
            foreach (var id in ns.Values.Where(r => Matches(r.Metadata, filter)).Select(r => r.Id).ToList())
            {
                ns.Remove(id);
            }
        }

        return Json(200, new JsonObject());
    }

    private static CannedResponse QueryVectors(Index index, JsonObject body)
    {
        var topK = body["topK"]?.GetValue<int>() ?? 0;
        if (topK is < 1 or > 10_000)
        {
            return DataError(400, 3, "topK must be between 1 and 10000");
        }

        var vector = body["vector"]?.AsArray().Select(v => v!.GetValue<float>()).ToArray() ?? [];
        if (vector.Length != index.Dimension)
        {
            return DataError(400, 3, $"Query vector dimension {vector.Length} does not match the dimension of the index {index.Dimension}");
        }

        var name = body["namespace"]?.GetValue<string>() ?? string.Empty;
        var records = index.Namespaces.TryGetValue(name, out var ns) ? ns.Values : (IEnumerable<Record>)[];
        var filter = body["filter"] as JsonObject;
        var scored = records.Where(r => filter is null || Matches(r.Metadata, filter)).Select(r => (Record: r, Score: Score(index.Metric, vector, r.Values)));
        var ordered = index.Metric == "euclidean"
            ? scored.OrderBy(s => s.Score).ThenBy(s => s.Record.Id, StringComparer.Ordinal)
            : scored.OrderByDescending(s => s.Score).ThenBy(s => s.Record.Id, StringComparer.Ordinal);
        var withValues = body["includeValues"]?.GetValue<bool>() ?? false;
        var withMetadata = body["includeMetadata"]?.GetValue<bool>() ?? false;
        var matches = new JsonArray([.. ordered.Take(topK).Select(s => (JsonNode)RecordJson(s.Record, withValues, withMetadata, s.Score))]);
        return Json(200, new JsonObject { ["results"] = new JsonArray(), ["matches"] = matches, ["namespace"] = name, ["usage"] = new JsonObject { ["readUnits"] = 5 } });
    }

    private static CannedResponse Stats(Index index)
    {
        var namespaces = new JsonObject();
        foreach (var (name, ns) in index.Namespaces)
        {
            namespaces[name] = new JsonObject { ["vectorCount"] = ns.Count };
        }

        return Json(200, new JsonObject
        {
            ["namespaces"] = namespaces,
            ["dimension"] = index.Dimension,
            ["indexFullness"] = 0,
            ["totalVectorCount"] = index.Namespaces.Values.Sum(n => n.Count),
            ["metric"] = index.Metric,
            ["vectorType"] = "dense",
        });
    }

    private static double Score(string metric, float[] query, float[] values)
    {
        double dot = 0, queryNorm = 0, norm = 0, squared = 0;
        for (var i = 0; i < query.Length; i++)
        {
            dot += (double)query[i] * values[i];
            queryNorm += (double)query[i] * query[i];
            norm += (double)values[i] * values[i];
            var d = (double)query[i] - values[i];
            squared += d * d;
        }

        return metric switch
        {
            "cosine" => queryNorm == 0 || norm == 0 ? 0 : dot / Math.Sqrt(queryNorm * norm),
            "dotproduct" => dot,
            _ => squared,
        };
    }

    // ---- metadata filters ($and/$or, $eq/$ne/$in/$nin/$gt/$gte/$lt/$lte/$exists; lists match by membership) ----

    private static bool Matches(JsonObject? metadata, JsonObject filter)
    {
        foreach (var (key, condition) in filter)
        {
            var ok = key switch
            {
                "$and" => condition!.AsArray().All(c => Matches(metadata, c!.AsObject())),
                "$or" => condition!.AsArray().Any(c => Matches(metadata, c!.AsObject())),
                _ => Field(metadata?[key], condition),
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Field(JsonNode? value, JsonNode? condition)
    {
        if (condition is not JsonObject operators)
        {
            return Field(value, new JsonObject { ["$eq"] = condition?.DeepClone() });
        }

        List<JsonNode?> values = value is JsonArray list ? [.. list] : value is null ? [] : [value];
        foreach (var (op, operand) in operators)
        {
            var ok = op switch
            {
                "$eq" => values.Any(v => Same(v, operand)),
                "$ne" => !values.Any(v => Same(v, operand)),
                "$in" => values.Any(v => operand!.AsArray().Any(o => Same(v, o))),
                "$nin" => !values.Any(v => operand!.AsArray().Any(o => Same(v, o))),
                "$exists" => (values.Count > 0) == operand!.GetValue<bool>(),
                "$gt" or "$gte" or "$lt" or "$lte" => values.Any(v => v?.GetValueKind() == JsonValueKind.Number && Compare(v.GetValue<double>(), op, operand!.GetValue<double>())),
                _ => throw new NotSupportedException("The emulator does not know filter operator " + op),
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Same(JsonNode? a, JsonNode? b) =>
        a?.GetValueKind() == JsonValueKind.Number && b?.GetValueKind() == JsonValueKind.Number
            ? a.GetValue<double>() == b.GetValue<double>()
            : JsonNode.DeepEquals(a, b);

    private static bool Compare(double value, string op, double operand) => op switch
    {
        "$gt" => value > operand,
        "$gte" => value >= operand,
        "$lt" => value < operand,
        _ => value <= operand,
    };

    // ---- helpers ---------------------------------------------------------------------------------------

    private static Dictionary<string, Record>? Namespace(Index index, JsonObject body, bool create)
    {
        var name = body["namespace"]?.GetValue<string>() ?? string.Empty;
        if (!index.Namespaces.TryGetValue(name, out var ns) && create)
        {
            // Namespaces are created implicitly by the first upsert.
            index.Namespaces[name] = ns = new Dictionary<string, Record>(StringComparer.Ordinal);
        }

        return ns;
    }

    private static JsonObject RecordJson(Record record, bool withValues, bool withMetadata, double? score)
    {
        var json = new JsonObject { ["id"] = record.Id };
        if (score is not null)
        {
            json["score"] = (float)score.Value;
        }

        json["values"] = withValues ? new JsonArray([.. record.Values.Select(v => (JsonNode)v)]) : new JsonArray();
        if (withMetadata && record.Metadata is not null)
        {
            json["metadata"] = record.Metadata.DeepClone();
        }

        return json;
    }

    private static Dictionary<string, List<string>> Query(string queryString)
    {
        var query = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in queryString.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(parts[0]);
            if (!query.TryGetValue(key, out var list))
            {
                query[key] = list = [];
            }

            list.Add(Uri.UnescapeDataString(parts.Length > 1 ? parts[1] : string.Empty));
        }

        return query;
    }

    private static CannedResponse Json(int status, JsonNode body) => CannedResponse.Json(status, body.ToJsonString());

    private static CannedResponse ControlError(int status, string code, string message) =>
        Json(status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message }, ["status"] = status });

    private static CannedResponse DataError(int status, int code, string message) =>
        Json(status, new JsonObject { ["code"] = code, ["message"] = message, ["details"] = new JsonArray() });

    [GeneratedRegex("^/index/(?<index>[^/]+)/(?<op>.+)$")]
    private static partial Regex DataRoute();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,44}$")]
    private static partial Regex IndexName();

    private sealed record Record(string Id, float[] Values, JsonObject? Metadata);

    private sealed class Index(string name, int dimension, string metric, string cloud, string region, int pendingDescribes)
    {
        public string Name { get; } = name;

        public int Dimension { get; } = dimension;

        public string Metric { get; } = metric;

        public string Cloud { get; } = cloud;

        public string Region { get; } = region;

        public int PendingDescribes { get; set; } = pendingDescribes;

        public Dictionary<string, Dictionary<string, Record>> Namespaces { get; } = new(StringComparer.Ordinal);
    }
}
