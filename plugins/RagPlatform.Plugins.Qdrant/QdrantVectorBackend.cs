using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>
/// <see cref="IVectorBackend"/> over Qdrant's REST API. One collection per RagPlatform collection (single unnamed
/// vector, Cosine/Dot/Euclid); the model fingerprint lives in the collection's <c>metadata</c>; tags, document id
/// and metadata terms have keyword payload indexes. Blue/green switches use aliases (<see cref="SwitchAliasAsync"/>).
/// </summary>
public sealed class QdrantVectorBackend : IVectorBackend
{
    internal const string FingerprintKey = "rag_fingerprint";
    private static readonly byte[] PointsPrefix = "{\"points\":["u8.ToArray();
    private static readonly byte[] PointsSuffix = "]}"u8.ToArray();

    private readonly QdrantOptions _options;
    private readonly HttpClient _http;
    private readonly RemoteHttpSender _sender;
    private readonly ConcurrentDictionary<string, VectorCollectionSpec> _specs = new(StringComparer.Ordinal);

    public QdrantVectorBackend(QdrantOptions options, ServiceConnectionString connection, ILogger<QdrantVectorBackend> logger)
        : this(options, connection, logger, handler: null, delay: null)
    {
    }

    /// <param name="handler">Tests pass their own handler; null uses a pooled <see cref="SocketsHttpHandler"/>.</param>
    /// <param name="delay">Tests record retry waits instead of sleeping.</param>
    internal QdrantVectorBackend(
        QdrantOptions options,
        ServiceConnectionString connection,
        ILogger logger,
        HttpMessageHandler? handler,
        Func<TimeSpan, CancellationToken, Task>? delay)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        _options = options;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(connection.Endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
        };
        if (connection.Key is not null)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation("api-key", connection.Key);
        }

        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var policy = RemoteRetryPolicy.Default with
        {
            MaxAttempts = options.MaxAttempts,
            BaseDelay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds),
        };
        _sender = new RemoteHttpSender(_http, "Qdrant", policy, logger, delay);
    }

    // ---- collections -----------------------------------------------------------------------------------

    public async Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var existing = await GetCollectionAsync(spec.Name, cancellationToken);
        if (existing is null)
        {
            var body = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("vectors");
                w.WriteNumber("size", spec.Dimensions);
                w.WriteString("distance", Distances.NameOf(spec.Metric));
                w.WriteEndObject();
                w.WriteStartObject("hnsw_config");
                w.WriteNumber("m", _options.HnswM);
                w.WriteNumber("ef_construct", _options.HnswEfConstruct);
                w.WriteEndObject();
                w.WriteBoolean("on_disk_payload", _options.OnDiskPayload);
                w.WriteStartObject("metadata");
                w.WriteString(FingerprintKey, spec.Fingerprint.ToString());
                w.WriteEndObject();
                w.WriteEndObject();
            });
            using var created = await SendAsync(HttpMethod.Put, CollectionPath(spec.Name), body, cancellationToken);
            var createError = created.IsSuccessStatusCode ? null : await _sender.ErrorAsync(created, $"create collection '{spec.Name}'", cancellationToken);

            // A failed create may only mean another process created it meanwhile: then it is checked like any existing one.
            existing = await GetCollectionAsync(spec.Name, cancellationToken)
                ?? throw createError ?? new RemoteServiceException($"Qdrant did not show collection '{spec.Name}' after creating it.");
        }

        if (existing.Dimensions != spec.Dimensions || existing.Metric != spec.Metric || existing.Fingerprint != spec.Fingerprint)
        {
            throw new VectorCollectionMismatchException(
                $"Qdrant collection '{spec.Name}' holds {existing.Dimensions}-dim {existing.Metric} vectors of {existing.Fingerprint}; asked for {spec.Dimensions}-dim {spec.Metric} of {spec.Fingerprint}.");
        }

        // Index creation is idempotent in Qdrant, so an interrupted earlier Ensure is completed here.
        foreach (var field in QdrantPayload.IndexedFields)
        {
            var index = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("field_name", field);
                w.WriteString("field_schema", "keyword");
                w.WriteEndObject();
            });
            using var response = await SendAsync(HttpMethod.Put, CollectionPath(spec.Name) + "/index?wait=true", index, cancellationToken);
            await _sender.EnsureSuccessAsync(response, $"create payload index '{field}' on '{spec.Name}'", cancellationToken);
        }

        _specs[spec.Name] = spec;
    }

    public async Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        using var response = await SendAsync(HttpMethod.Get, CollectionPath(collection), null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            _specs.TryRemove(collection, out _);
            return null;
        }

        using var document = await ReadResultAsync(response, $"get collection '{collection}'", cancellationToken);
        var config = document.RootElement.GetProperty("result").GetProperty("config");
        var vectors = config.GetProperty("params").GetProperty("vectors");
        if (!vectors.TryGetProperty("size", out var size))
        {
            throw new VectorCollectionMismatchException($"Qdrant collection '{collection}' uses named vectors; RagPlatform collections have one unnamed vector.");
        }

        if (!config.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty(FingerprintKey, out var fingerprint) || fingerprint.ValueKind != JsonValueKind.String)
        {
            throw new VectorCollectionMismatchException(
                $"Qdrant collection '{collection}' has no '{FingerprintKey}' in its metadata: it was not created by RagPlatform (or the server is older than Qdrant 1.16, which added collection metadata).");
        }

        var spec = new VectorCollectionSpec(
            collection,
            size.GetInt32(),
            Distances.Parse(vectors.GetProperty("distance").GetString()),
            ModelFingerprint.Parse(fingerprint.GetString()!));
        _specs[collection] = spec;
        return spec;
    }

    public async Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        _specs.TryRemove(collection, out _);
        using var response = await SendAsync(HttpMethod.Delete, CollectionPath(collection), null, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await _sender.EnsureSuccessAsync(response, $"delete collection '{collection}'", cancellationToken);
        }
    }

    /// <summary>
    /// Points <paramref name="alias"/> at <paramref name="collection"/> in one atomic alias change (delete the old
    /// alias, create the new one): readers using the alias see the old collection until the switch, then the new one.
    /// </summary>
    public async Task SwitchAliasAsync(string alias, string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        var body = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("actions");
            w.WriteStartObject();
            w.WriteStartObject("delete_alias");
            w.WriteString("alias_name", alias);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteStartObject("create_alias");
            w.WriteString("collection_name", collection);
            w.WriteString("alias_name", alias);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, "collections/aliases", body, cancellationToken);
        await _sender.EnsureSuccessAsync(response, $"switch alias '{alias}' to '{collection}'", cancellationToken);
        _specs.TryRemove(alias, out _);
    }

    /// <summary>Removes an alias (the collection it pointed at stays); no-op when absent.</summary>
    public async Task DeleteAliasAsync(string alias, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        var body = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("actions");
            w.WriteStartObject();
            w.WriteStartObject("delete_alias");
            w.WriteString("alias_name", alias);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, "collections/aliases", body, cancellationToken);
        await _sender.EnsureSuccessAsync(response, $"delete alias '{alias}'", cancellationToken);
        _specs.TryRemove(alias, out _);
    }

    // ---- writes ----------------------------------------------------------------------------------------

    public async Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0)
        {
            await RequireSpecAsync(collection, cancellationToken);
            return;
        }

        var spec = await RequireSpecAsync(collection, cancellationToken);
        var serialized = new byte[points.Count][];
        for (var i = 0; i < points.Count; i++)
        {
            ArgumentException.ThrowIfNullOrEmpty(points[i].Id, nameof(points));
            VectorMath.Validate(points[i].Vector, spec.Dimensions, points[i].Id);
            serialized[i] = QdrantPayload.SerializePoint(points[i]);
        }

        // Every point is checked and serialised before the first request, so bad input writes nothing.
        var batches = RequestBatches.Split(serialized, _options.MaxBatchPoints, _options.MaxRequestBytes, PointsPrefix.Length + PointsSuffix.Length);
        foreach (var batch in batches)
        {
            var body = RequestBatches.Join(PointsPrefix, batch, PointsSuffix);
            using var response = await SendAsync(HttpMethod.Put, CollectionPath(collection) + "/points?wait=true", body, cancellationToken);
            await EnsureDataSuccessAsync(response, collection, $"upsert {batch.Count} points into '{collection}'", cancellationToken);
        }
    }

    public async Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        await RequireSpecAsync(collection, cancellationToken);
        var existing = (await RetrieveRecordsAsync(collection, pointIds, withVectors: false, cancellationToken)).Select(p => p.Id).ToList();
        if (existing.Count == 0)
        {
            return 0;
        }

        foreach (var chunk in existing.Chunk(1000))
        {
            var body = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("points");
                foreach (var id in chunk)
                {
                    w.WriteStringValue(QdrantPointIds.For(id));
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
            using var response = await SendAsync(HttpMethod.Post, CollectionPath(collection) + "/points/delete?wait=true", body, cancellationToken);
            await EnsureDataSuccessAsync(response, collection, $"delete points from '{collection}'", cancellationToken);
        }

        return existing.Count;
    }

    public async Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        // Qdrant's delete does not report how many points it removed, so they are counted (exactly) first.
        var count = await CountByFilterAsync(collection, w => QdrantPayload.WriteDocumentFilter(w, documentId), cancellationToken);
        if (count == 0)
        {
            return 0;
        }

        var body = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            QdrantPayload.WriteDocumentFilter(w, documentId);
            w.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, CollectionPath(collection) + "/points/delete?wait=true", body, cancellationToken);
        await EnsureDataSuccessAsync(response, collection, $"delete document '{documentId}' from '{collection}'", cancellationToken);
        return count;
    }

    // ---- reads -----------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        await RequireSpecAsync(collection, cancellationToken);
        return await RetrieveRecordsAsync(collection, pointIds, withVectors: true, cancellationToken);
    }

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.TopK, 1);
        var spec = await RequireSpecAsync(collection, cancellationToken);
        VectorMath.Validate(query.Vector, spec.Dimensions, "query");
        var body = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("query");
            foreach (var value in query.Vector)
            {
                w.WriteNumberValue(value);
            }

            w.WriteEndArray();
            if (query.Filter is { IsEmpty: false } filter)
            {
                QdrantPayload.WriteFilter(w, filter);
            }

            w.WriteStartObject("params");
            w.WriteNumber("hnsw_ef", Math.Max(_options.HnswEf, query.TopK));
            w.WriteBoolean("exact", _options.ExactSearch);
            w.WriteEndObject();
            w.WriteNumber("limit", query.TopK);
            w.WriteBoolean("with_payload", true);
            w.WriteBoolean("with_vector", false);
            w.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, CollectionPath(collection) + "/points/query", body, cancellationToken);
        using var document = await ReadDataResultAsync(response, collection, $"query '{collection}'", cancellationToken);
        var hits = new List<VectorSearchHit>();
        foreach (var point in document.RootElement.GetProperty("result").GetProperty("points").EnumerateArray())
        {
            var (id, payload) = QdrantPayload.ReadPayload(point);
            var score = point.GetProperty("score").GetSingle();
            // Qdrant reports Euclid as a distance (smaller is closer); the contract wants higher-is-closer.
            hits.Add(new VectorSearchHit(id, spec.Metric == DistanceMetric.Euclidean ? -score : score, payload));
        }

        return hits;
    }

    public Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken) =>
        CountByFilterAsync(collection, filter is { IsEmpty: false } f ? w => QdrantPayload.WriteFilter(w, f) : null, cancellationToken);

    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await RequireSpecAsync(collection, cancellationToken);
        string? offset = null;
        do
        {
            var pageOffset = offset;
            var body = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("limit", _options.ScrollPageSize);
                if (pageOffset is not null)
                {
                    w.WriteString("offset", pageOffset);
                }

                w.WriteBoolean("with_payload", true);
                w.WriteBoolean("with_vector", true);
                w.WriteEndObject();
            });
            List<VectorPoint> page;
            using (var response = await SendAsync(HttpMethod.Post, CollectionPath(collection) + "/points/scroll", body, cancellationToken))
            using (var document = await ReadDataResultAsync(response, collection, $"scroll '{collection}'", cancellationToken))
            {
                var result = document.RootElement.GetProperty("result");
                page = [.. result.GetProperty("points").EnumerateArray().Select(ReadPoint)];
                offset = result.TryGetProperty("next_page_offset", out var next) && next.ValueKind != JsonValueKind.Null ? next.ToString() : null;
            }

            foreach (var point in page)
            {
                yield return point;
            }
        }
        while (offset is not null);
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
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private async Task<long> CountByFilterAsync(string collection, Action<Utf8JsonWriter>? writeFilter, CancellationToken cancellationToken)
    {
        await RequireSpecAsync(collection, cancellationToken);
        var body = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            writeFilter?.Invoke(w);
            w.WriteBoolean("exact", true);
            w.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, CollectionPath(collection) + "/points/count", body, cancellationToken);
        using var document = await ReadDataResultAsync(response, collection, $"count '{collection}'", cancellationToken);
        return document.RootElement.GetProperty("result").GetProperty("count").GetInt64();
    }

    private async Task<List<VectorPoint>> RetrieveRecordsAsync(string collection, IReadOnlyList<string> pointIds, bool withVectors, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, VectorPoint>(StringComparer.Ordinal);
        foreach (var chunk in pointIds.Distinct(StringComparer.Ordinal).Chunk(1000))
        {
            var body = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("ids");
                foreach (var id in chunk)
                {
                    w.WriteStringValue(QdrantPointIds.For(id));
                }

                w.WriteEndArray();
                w.WriteBoolean("with_payload", true);
                w.WriteBoolean("with_vector", withVectors);
                w.WriteEndObject();
            });
            using var response = await SendAsync(HttpMethod.Post, CollectionPath(collection) + "/points", body, cancellationToken);
            using var document = await ReadDataResultAsync(response, collection, $"retrieve points from '{collection}'", cancellationToken);
            foreach (var record in document.RootElement.GetProperty("result").EnumerateArray())
            {
                var (id, payload) = QdrantPayload.ReadPayload(record);
                found[id] = new VectorPoint(id, withVectors ? RemoteJson.ReadFloats(record.GetProperty("vector")) : [], payload);
            }
        }

        return [.. found.Values];
    }

    private static VectorPoint ReadPoint(JsonElement record)
    {
        var (id, payload) = QdrantPayload.ReadPayload(record);
        return new VectorPoint(id, RemoteJson.ReadFloats(record.GetProperty("vector")), payload);
    }

    private async Task<VectorCollectionSpec> RequireSpecAsync(string collection, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        if (_specs.TryGetValue(collection, out var cached))
        {
            return cached;
        }

        return await GetCollectionAsync(collection, cancellationToken) ?? throw new VectorCollectionNotFoundException(collection);
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken) =>
        _sender.SendAsync(() => RemoteJson.Request(method, new Uri(path, UriKind.Relative), body), cancellationToken);

    private async Task<JsonDocument> ReadResultAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        await _sender.EnsureSuccessAsync(response, operation, cancellationToken);
        return await RemoteJson.ReadAsync(response, cancellationToken);
    }

    private async Task<JsonDocument> ReadDataResultAsync(HttpResponseMessage response, string collection, string operation, CancellationToken cancellationToken)
    {
        await EnsureDataSuccessAsync(response, collection, operation, cancellationToken);
        return await RemoteJson.ReadAsync(response, cancellationToken);
    }

    private async Task EnsureDataSuccessAsync(HttpResponseMessage response, string collection, string operation, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            // The collection was dropped (perhaps by another process) since its spec was cached.
            _specs.TryRemove(collection, out _);
            throw new VectorCollectionNotFoundException(collection);
        }

        await _sender.EnsureSuccessAsync(response, operation, cancellationToken);
    }

    private static string CollectionPath(string collection) => "collections/" + Uri.EscapeDataString(collection);

    /// <summary>Qdrant's names for the metrics (its <c>Distance</c> enum).</summary>
    internal static readonly MetricNames Distances = new("Qdrant", "Cosine", "Dot", "Euclid");
}
