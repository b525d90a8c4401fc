using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Pinecone;

/// <summary>
/// <see cref="IVectorBackend"/> over Pinecone serverless. An index holds one vector shape, so collections of the
/// same metric and dimensions share an index named <c>&lt;prefix&gt;-&lt;metric&gt;-&lt;dimensions&gt;</c>, one namespace
/// per collection (namespaces isolate queries, cost nothing, and drop with one deleteAll). Each index keeps a catalog
/// namespace with one record per collection holding its fingerprint, because Pinecone has nowhere else to keep
/// per-namespace metadata.
/// </summary>
public sealed class PineconeVectorBackend : IVectorBackend
{
    /// <summary>The namespace of catalog records; no collection may use this name.</summary>
    public const string CatalogNamespace = "ragplatform-catalog";

    private const int QueryTopKLimit = 10_000;
    private static readonly byte[] VectorsPrefix = "{\"vectors\":["u8.ToArray();

    private readonly PineconeOptions _options;
    private readonly Uri _controlPlane;
    private readonly HttpClient _http;
    private readonly RemoteHttpSender _sender;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, IndexInfo> _indexes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CollectionInfo> _collections = new(StringComparer.Ordinal);

    /// <param name="http">The client to call Pinecone with (the host's, from <see cref="PluginContext.CreateHttpClient"/>);
    /// owned and disposed by the backend. Null: a plain client.</param>
    public PineconeVectorBackend(PineconeOptions options, ServiceConnectionString connection, ILogger<PineconeVectorBackend> logger, HttpClient? http = null)
        : this(options, connection, logger, http, time: null)
    {
    }

    internal PineconeVectorBackend(
        PineconeOptions options,
        ServiceConnectionString connection,
        ILogger logger,
        HttpClient? http,
        TimeProvider? time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        _options = options;
        _controlPlane = new Uri(connection.Endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        _http.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        _http.DefaultRequestHeaders.TryAddWithoutValidation("Api-Key", connection.Key);
        _http.DefaultRequestHeaders.TryAddWithoutValidation("X-Pinecone-API-Version", options.ApiVersion);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _time = time ?? TimeProvider.System;
        _sender = new RemoteHttpSender(_http, "Pinecone", options.ToRetryOptions(), logger, _time);
    }

    // ---- collections -----------------------------------------------------------------------------------

    public async Task EnsureCollectionAsync(VectorCollectionSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ValidateSpec(spec);
        var existing = await GetCollectionAsync(spec.Name, cancellationToken);
        if (existing is not null)
        {
            if (existing.Dimensions != spec.Dimensions || existing.Metric != spec.Metric || existing.Fingerprint != spec.Fingerprint)
            {
                throw new VectorCollectionMismatchException(
                    $"Pinecone collection '{spec.Name}' holds {existing.Dimensions}-dim {existing.Metric} vectors of {existing.Fingerprint}; asked for {spec.Dimensions}-dim {spec.Metric} of {spec.Fingerprint}.");
            }

            return;
        }

        var index = await EnsureIndexAsync(spec.Metric, spec.Dimensions, cancellationToken);
        var catalogRecord = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("vectors");
            w.WriteStartObject();
            w.WriteString("id", spec.Name);
            w.WriteStartArray("values");
            for (var i = 0; i < spec.Dimensions; i++)
            {
                // Dense values may not be all zero; the catalog record's vector is never searched.
                w.WriteNumberValue(i == 0 ? 1 : 0);
            }

            w.WriteEndArray();
            w.WriteStartObject("metadata");
            w.WriteString("collection", spec.Name);
            w.WriteString("fingerprint", spec.Fingerprint.ToString());
            w.WriteString("metric", Metrics.NameOf(spec.Metric));
            w.WriteNumber("dimensions", spec.Dimensions);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("namespace", CatalogNamespace);
            w.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, index.Data("vectors/upsert"), catalogRecord, cancellationToken);
        await _sender.EnsureSuccessAsync(response, $"register collection '{spec.Name}' in index '{index.Name}'", cancellationToken);
        _collections[spec.Name] = new CollectionInfo(spec, index);
    }

    public async Task<VectorCollectionSpec?> GetCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        ValidateName(collection);
        foreach (var index in await ListIndexesAsync(cancellationToken))
        {
            var records = await FetchAsync(index, CatalogNamespace, [collection], cancellationToken);
            if (records.Count == 0)
            {
                continue;
            }

            var metadata = records[0].GetProperty("metadata");
            var spec = new VectorCollectionSpec(
                collection,
                (int)metadata.GetProperty("dimensions").GetDouble(),
                Metrics.Parse(metadata.GetProperty("metric").GetString()),
                ModelFingerprint.Parse(metadata.GetProperty("fingerprint").GetString()!));
            _collections[collection] = new CollectionInfo(spec, index);
            return spec;
        }

        _collections.TryRemove(collection, out _);
        return null;
    }

    public async Task DeleteCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        ValidateName(collection);
        if (await GetCollectionAsync(collection, cancellationToken) is null)
        {
            return;
        }

        var info = _collections[collection];
        var deleteAll = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("deleteAll", true);
            w.WriteString("namespace", collection);
            w.WriteEndObject();
        });
        using (var response = await SendAsync(HttpMethod.Post, info.Index.Data("vectors/delete"), deleteAll, cancellationToken))
        {
            // 404: the namespace was never written (an empty collection), which is fine.
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                await _sender.EnsureSuccessAsync(response, $"delete namespace '{collection}'", cancellationToken);
            }
        }

        await DeleteIdsAsync(info.Index, CatalogNamespace, [collection], cancellationToken);
        _collections.TryRemove(collection, out _);
    }

    // ---- writes ----------------------------------------------------------------------------------------

    public async Task UpsertAsync(string collection, IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        var info = await RequireAsync(collection, cancellationToken);
        if (points.Count == 0)
        {
            return;
        }

        var records = new byte[points.Count][];
        for (var i = 0; i < points.Count; i++)
        {
            ValidatePointId(points[i].Id);
            VectorMath.Validate(points[i].Vector, info.Spec.Dimensions, points[i].Id);
            records[i] = PineconeRecords.SerializeRecord(points[i], _options.MaxMetadataBytes);
        }

        // Every record is checked and serialised before the first request, so bad input writes nothing.
        var suffix = Encoding.UTF8.GetBytes("],\"namespace\":" + JsonSerializer.Serialize(collection) + "}");
        foreach (var batch in RequestBatches.Split(records, _options.MaxBatchRecords, _options.MaxRequestBytes, VectorsPrefix.Length + suffix.Length))
        {
            var body = RequestBatches.Join(VectorsPrefix, batch, suffix);
            using var response = await SendAsync(HttpMethod.Post, info.Index.Data("vectors/upsert"), body, cancellationToken);
            await _sender.EnsureSuccessAsync(response, $"upsert {batch.Count} records into '{collection}'", cancellationToken);
        }
    }

    public async Task<long> DeleteAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        var info = await RequireAsync(collection, cancellationToken);
        // Pinecone's delete does not say what it removed, so existing ids are fetched first.
        var existing = (await FetchAsync(info.Index, collection, pointIds, cancellationToken)).Select(r => r.GetProperty("id").GetString()!).ToList();
        await DeleteIdsAsync(info.Index, collection, existing, cancellationToken);
        return existing.Count;
    }

    /// <summary>
    /// Finds the document's records with a filtered query (<c>document_id $eq</c>, up to 1,000 ids a round) and deletes
    /// them by id, until a round finds nothing new. By id rather than by filter, because the count must be exact and
    /// Pinecone's delete returns none; the point ids themselves stay plain (no document prefix), so retrieve and
    /// delete by id need no lookup.
    /// </summary>
    public async Task<long> DeleteByDocumentAsync(string collection, string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        var info = await RequireAsync(collection, cancellationToken);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var body = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("namespace", collection);
                WriteProbeVector(w, info.Spec.Dimensions);
                w.WriteNumber("topK", 1000);
                w.WriteStartObject("filter");
                w.WriteStartObject(PineconeRecords.DocumentIdField);
                w.WriteString("$eq", documentId);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteBoolean("includeValues", false);
                w.WriteBoolean("includeMetadata", false);
                w.WriteEndObject();
            });
            List<string> found;
            using (var response = await SendAsync(HttpMethod.Post, info.Index.Data("query"), body, cancellationToken))
            {
                await _sender.EnsureSuccessAsync(response, $"find records of document '{documentId}' in '{collection}'", cancellationToken);
                using var document = await RemoteJson.ReadAsync(response, cancellationToken);
                found = [.. Matches(document).Select(m => m.GetProperty("id").GetString()!).Where(id => !removed.Contains(id))];
            }

            if (found.Count == 0)
            {
                return removed.Count;
            }

            await DeleteIdsAsync(info.Index, collection, found, cancellationToken);
            removed.UnionWith(found);
        }
    }

    // ---- reads -----------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<VectorPoint>> RetrieveAsync(string collection, IReadOnlyList<string> pointIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pointIds);
        var info = await RequireAsync(collection, cancellationToken);
        return [.. (await FetchAsync(info.Index, collection, pointIds, cancellationToken)).Select(ReadPoint)];
    }

    public async Task<IReadOnlyList<VectorSearchHit>> SearchAsync(string collection, VectorQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.TopK, 1);
        var info = await RequireAsync(collection, cancellationToken);
        VectorMath.Validate(query.Vector, info.Spec.Dimensions, "query");
        var body = RemoteJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("namespace", collection);
            w.WriteStartArray("vector");
            foreach (var value in query.Vector)
            {
                w.WriteNumberValue(value);
            }

            w.WriteEndArray();
            w.WriteNumber("topK", Math.Min(query.TopK, QueryTopKLimit));
            if (query.Filter is { IsEmpty: false } filter)
            {
                PineconeRecords.WriteFilter(w, filter);
            }

            w.WriteBoolean("includeValues", false);
            w.WriteBoolean("includeMetadata", true);
            w.WriteEndObject();
        });
        using var response = await SendAsync(HttpMethod.Post, info.Index.Data("query"), body, cancellationToken);
        await _sender.EnsureSuccessAsync(response, $"query '{collection}'", cancellationToken);
        using var document = await RemoteJson.ReadAsync(response, cancellationToken);
        var hits = new List<VectorSearchHit>();
        foreach (var match in Matches(document))
        {
            var score = match.GetProperty("score").GetDouble();
            // Pinecone's euclidean score is the squared distance (smaller is closer); the contract wants -distance.
            var contractScore = info.Spec.Metric == DistanceMetric.Euclidean ? -Math.Sqrt(Math.Max(0, score)) : score;
            hits.Add(new VectorSearchHit(match.GetProperty("id").GetString()!, (float)contractScore, PineconeRecords.ReadPayload(match.GetProperty("metadata"))));
        }

        return hits;
    }

    /// <summary>
    /// Without a filter: the namespace's vectorCount from describe_index_stats (serverless indexes refuse a filter
    /// there). With one: every record is listed and fetched, and <see cref="VectorFilter.Matches"/> decides.
    /// </summary>
    public async Task<long> CountAsync(string collection, VectorFilter? filter, CancellationToken cancellationToken)
    {
        var info = await RequireAsync(collection, cancellationToken);
        if (filter is { IsEmpty: false })
        {
            long matching = 0;
            await foreach (var point in ExportAsync(collection, cancellationToken))
            {
                matching += filter.Matches(point.Payload) ? 1 : 0;
            }

            return matching;
        }

        using var response = await SendAsync(HttpMethod.Post, info.Index.Data("describe_index_stats"), "{}"u8.ToArray(), cancellationToken);
        await _sender.EnsureSuccessAsync(response, $"describe index '{info.Index.Name}'", cancellationToken);
        using var document = await RemoteJson.ReadAsync(response, cancellationToken);
        return document.RootElement.TryGetProperty("namespaces", out var namespaces)
            && namespaces.TryGetProperty(collection, out var stats)
            && stats.TryGetProperty("vectorCount", out var count)
            ? count.GetInt64()
            : 0;
    }

    /// <summary>Lists the namespace's ids page by page (pagination.next) and fetches each page's records.</summary>
    public async IAsyncEnumerable<VectorPoint> ExportAsync(string collection, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var info = await RequireAsync(collection, cancellationToken);
        string? token = null;
        do
        {
            var query = new StringBuilder("vectors/list?namespace=").Append(Uri.EscapeDataString(collection))
                .Append("&limit=").Append(_options.ListPageSize.ToString(CultureInfo.InvariantCulture));
            if (token is not null)
            {
                query.Append("&paginationToken=").Append(Uri.EscapeDataString(token));
            }

            List<string> ids;
            using (var response = await SendAsync(HttpMethod.Get, info.Index.Data(query.ToString()), null, cancellationToken))
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    // A namespace that was never written does not exist yet: an empty collection.
                    yield break;
                }

                await _sender.EnsureSuccessAsync(response, $"list ids of '{collection}'", cancellationToken);
                using var document = await RemoteJson.ReadAsync(response, cancellationToken);
                var root = document.RootElement;
                ids = root.TryGetProperty("vectors", out var vectors) ? [.. vectors.EnumerateArray().Select(v => v.GetProperty("id").GetString()!)] : [];
                token = root.TryGetProperty("pagination", out var pagination) && pagination.TryGetProperty("next", out var next) ? next.GetString() : null;
            }

            foreach (var record in await FetchAsync(info.Index, collection, ids, cancellationToken))
            {
                yield return ReadPoint(record);
            }
        }
        while (!string.IsNullOrEmpty(token));
    }

    public async Task<long> ImportAsync(string collection, IAsyncEnumerable<VectorPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        long written = 0;
        await foreach (var batch in VectorPointBatches.ReadAsync(points, _options.MaxBatchRecords, cancellationToken))
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

    // ---- indexes (control plane) -----------------------------------------------------------------------

    private async Task<IndexInfo> EnsureIndexAsync(DistanceMetric metric, int dimensions, CancellationToken cancellationToken)
    {
        var name = $"{_options.IndexNamePrefix}-{Metrics.NameOf(metric)}-{dimensions.ToString(CultureInfo.InvariantCulture)}";
        if (_indexes.TryGetValue(name, out var known))
        {
            return known;
        }

        var index = await DescribeIndexAsync(name, cancellationToken);
        if (index is null)
        {
            var body = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteNumber("dimension", dimensions);
                w.WriteString("metric", Metrics.NameOf(metric));
                w.WriteStartObject("spec");
                w.WriteStartObject("serverless");
                w.WriteString("cloud", _options.Cloud);
                w.WriteString("region", _options.Region);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteString("deletion_protection", _options.DeletionProtection ? "enabled" : "disabled");
                w.WriteStartObject("tags");
                w.WriteString("managed-by", "ragplatform");
                w.WriteEndObject();
                w.WriteEndObject();
            });
            using (var response = await SendAsync(HttpMethod.Post, new Uri(_controlPlane, "indexes"), body, cancellationToken))
            {
                // 409: another process created it meanwhile.
                if (response.StatusCode != HttpStatusCode.Conflict)
                {
                    await _sender.EnsureSuccessAsync(response, $"create index '{name}'", cancellationToken);
                }
            }

            var deadline = DateTimeOffset.UtcNow.AddSeconds(_options.IndexReadyTimeoutSeconds);
            while ((index = await DescribeIndexAsync(name, cancellationToken)) is null)
            {
                if (DateTimeOffset.UtcNow > deadline)
                {
                    throw new RemoteServiceException($"Pinecone index '{name}' was not ready after {_options.IndexReadyTimeoutSeconds} s.");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(_options.IndexReadyPollMilliseconds), _time, cancellationToken);
            }
        }

        if (index.Dimension != dimensions || index.Metric != metric)
        {
            throw new VectorCollectionMismatchException($"Pinecone index '{name}' is {index.Dimension}-dim {index.Metric}, not {dimensions}-dim {metric}.");
        }

        _indexes[name] = index;
        return index;
    }

    /// <summary>The index when it exists and is ready; null when absent or still initialising.</summary>
    private async Task<IndexInfo?> DescribeIndexAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, new Uri(_controlPlane, "indexes/" + Uri.EscapeDataString(name)), null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await _sender.EnsureSuccessAsync(response, $"describe index '{name}'", cancellationToken);
        using var document = await RemoteJson.ReadAsync(response, cancellationToken);
        return ReadIndex(document.RootElement);
    }

    /// <summary>Our ready indexes (named with the prefix), from the control plane's list.</summary>
    private async Task<List<IndexInfo>> ListIndexesAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, new Uri(_controlPlane, "indexes"), null, cancellationToken);
        await _sender.EnsureSuccessAsync(response, "list indexes", cancellationToken);
        using var document = await RemoteJson.ReadAsync(response, cancellationToken);
        var ours = new List<IndexInfo>();
        foreach (var model in document.RootElement.GetProperty("indexes").EnumerateArray())
        {
            if (model.GetProperty("name").GetString()!.StartsWith(_options.IndexNamePrefix + "-", StringComparison.Ordinal)
                && ReadIndex(model) is { } index)
            {
                _indexes[index.Name] = index;
                ours.Add(index);
            }
        }

        return ours;
    }

    private IndexInfo? ReadIndex(JsonElement model)
    {
        var ready = model.TryGetProperty("status", out var status) && status.TryGetProperty("ready", out var flag) && flag.GetBoolean();
        if (!ready || !model.TryGetProperty("host", out var host) || string.IsNullOrEmpty(host.GetString()))
        {
            return null;
        }

        var hostText = host.GetString()!;
        var baseUri = new Uri((hostText.Contains("://", StringComparison.Ordinal) ? hostText : _options.IndexHostScheme + "://" + hostText).TrimEnd('/') + "/");
        return new IndexInfo(
            model.GetProperty("name").GetString()!,
            model.GetProperty("dimension").GetInt32(),
            Metrics.Parse(model.GetProperty("metric").GetString()),
            baseUri);
    }

    // ---- data-plane helpers ----------------------------------------------------------------------------

    private async Task<List<JsonElement>> FetchAsync(IndexInfo index, string ns, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var records = new List<JsonElement>();
        foreach (var chunk in ids.Distinct(StringComparer.Ordinal).Chunk(_options.FetchBatchSize))
        {
            var query = new StringBuilder("vectors/fetch?namespace=").Append(Uri.EscapeDataString(ns));
            foreach (var id in chunk)
            {
                query.Append("&ids=").Append(Uri.EscapeDataString(id));
            }

            using var response = await SendAsync(HttpMethod.Get, index.Data(query.ToString()), null, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // The namespace does not exist (yet): nothing to fetch.
                continue;
            }

            await _sender.EnsureSuccessAsync(response, $"fetch records from '{ns}'", cancellationToken);
            using var document = await RemoteJson.ReadAsync(response, cancellationToken);
            if (document.RootElement.TryGetProperty("vectors", out var vectors))
            {
                records.AddRange(vectors.EnumerateObject().Select(p => p.Value.Clone()));
            }
        }

        return records;
    }

    private async Task DeleteIdsAsync(IndexInfo index, string ns, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        foreach (var chunk in ids.Chunk(1000))
        {
            var body = RemoteJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("ids");
                foreach (var id in chunk)
                {
                    w.WriteStringValue(id);
                }

                w.WriteEndArray();
                w.WriteString("namespace", ns);
                w.WriteEndObject();
            });
            using var response = await SendAsync(HttpMethod.Post, index.Data("vectors/delete"), body, cancellationToken);
            await _sender.EnsureSuccessAsync(response, $"delete records from '{ns}'", cancellationToken);
        }
    }

    private static IEnumerable<JsonElement> Matches(JsonDocument document) =>
        document.RootElement.TryGetProperty("matches", out var matches) ? matches.EnumerateArray() : [];

    private static VectorPoint ReadPoint(JsonElement record) =>
        new(record.GetProperty("id").GetString()!, RemoteJson.ReadFloats(record.GetProperty("values")), PineconeRecords.ReadPayload(record.GetProperty("metadata")));

    private static void WriteProbeVector(Utf8JsonWriter writer, int dimensions)
    {
        writer.WriteStartArray("vector");
        for (var i = 0; i < dimensions; i++)
        {
            writer.WriteNumberValue(i == 0 ? 1 : 0);
        }

        writer.WriteEndArray();
    }

    private async Task<CollectionInfo> RequireAsync(string collection, CancellationToken cancellationToken)
    {
        ValidateName(collection);
        if (_collections.TryGetValue(collection, out var cached))
        {
            return cached;
        }

        _ = await GetCollectionAsync(collection, cancellationToken) ?? throw new VectorCollectionNotFoundException(collection);
        return _collections[collection];
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, byte[]? body, CancellationToken cancellationToken) =>
        _sender.SendAsync(() => RemoteJson.Request(method, uri, body), cancellationToken);

    private static void ValidateName(string collection)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        if (collection == CatalogNamespace)
        {
            throw new ArgumentException($"'{CatalogNamespace}' is reserved by the Pinecone backend for its catalog.", nameof(collection));
        }
    }

    private static void ValidatePointId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 512)
        {
            throw new ArgumentException($"Pinecone record ids must be 1-512 characters; got '{id}'.", nameof(id));
        }
    }

    private static void ValidateSpec(VectorCollectionSpec spec)
    {
        spec.Validate();
        ValidateName(spec.Name);
    }

    /// <summary>Pinecone's names for the metrics (an index's <c>metric</c>).</summary>
    internal static readonly MetricNames Metrics = new("Pinecone", "cosine", "dotproduct", "euclidean");

    private sealed record IndexInfo(string Name, int Dimension, DistanceMetric Metric, Uri Host)
    {
        public Uri Data(string pathAndQuery) => new(Host, pathAndQuery);
    }

    private sealed record CollectionInfo(VectorCollectionSpec Spec, IndexInfo Index);
}
