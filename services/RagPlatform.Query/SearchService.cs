using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Text;
using RagPlatform.Core.Validation;
using RagPlatform.Sdk;

namespace RagPlatform.Query;

/// <summary>
/// Answers a search: embeds the query (cached per model fingerprint), searches the collection's backend
/// with the filter, and caches the result under the collection's version so any change invalidates it.
/// </summary>
public sealed class SearchService(
    CollectionService collections,
    IRagCache cache,
    IOptions<RagPlatformOptions> options,
    IMeterFactory meterFactory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly QueryOptions _options = options.Value.Query;
    private readonly Histogram<double> _duration = meterFactory.Create("RagPlatform.Query")
        .CreateHistogram<double>("ragplatform.search.duration", unit: "s", description: "Search latency, by mode and cache outcome.");
    private readonly Counter<long> _cacheLookups = meterFactory.Create("RagPlatform.Query")
        .CreateCounter<long>("ragplatform.cache.lookups", unit: "{lookup}", description: "Cache lookups, by tier and outcome.");

    public async Task<SearchResponse> SearchAsync(string collectionName, SearchRequest? request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var query = Validate(request, out var topK, out var mode, out var filter);
        var collection = await collections.ResolveAsync(collectionName, cancellationToken);
        var fingerprint = collection.Provider.Fingerprint;
        if (collection.Record.Fingerprint is { } expected && expected != fingerprint.ToString())
        {
            throw new ResourceConflictException(
                $"Collection '{collectionName}' holds {expected} but the provider now produces {fingerprint}; queries would compare different vector spaces.");
        }

        var resultKey = "search:" + ContentHashing.Hex(
            collectionName, "\u001F", collection.Record.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), "\u001F",
            fingerprint.ToString(), "\u001F", mode, "\u001F", topK.ToString(System.Globalization.CultureInfo.InvariantCulture), "\u001F",
            query, "\u001F", string.Join('\u001E', filter.Tags), "\u001F",
            string.Join('\u001E', filter.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Key + "=" + m.Value.GetRawText())));
        if (_options.ResultCacheSeconds > 0 && await cache.GetAsync(resultKey, cancellationToken) is { } hit)
        {
            Record("result", true);
            var cached = JsonSerializer.Deserialize<List<SearchResult>>(hit, Json)!;
            return Finish(cached, true, mode, started);
        }

        Record("result", false);
        var vector = await EmbedQueryAsync(collection.Provider, query, cancellationToken);
        var hits = await collection.Backend.SearchAsync(collectionName, new VectorQuery(vector, topK, filter.IsEmpty ? null : filter), cancellationToken);
        var results = hits.Select(h => new SearchResult(
            h.Payload.DocumentId, h.Id, h.Payload.Title, h.Payload.Text, h.Score, h.Payload.Tags, h.Payload.Metadata)).ToList();
        if (_options.ResultCacheSeconds > 0)
        {
            await cache.SetAsync(resultKey, JsonSerializer.SerializeToUtf8Bytes(results, Json), TimeSpan.FromSeconds(_options.ResultCacheSeconds), cancellationToken);
        }

        return Finish(results, false, mode, started);
    }

    private SearchResponse Finish(List<SearchResult> results, bool cached, string mode, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("mode", mode), new KeyValuePair<string, object?>("cached", cached));
        return new SearchResponse(results, cached, Math.Round(elapsed.TotalMilliseconds, 3), mode);
    }

    private async Task<float[]> EmbedQueryAsync(IEmbeddingProvider provider, string query, CancellationToken cancellationToken)
    {
        var key = "qemb:" + ContentHashing.Hex(provider.Fingerprint.ToString(), "\u001F", query);
        if (_options.QueryEmbeddingCacheSeconds > 0 && await cache.GetAsync(key, cancellationToken) is { } bytes
            && bytes.Length == provider.Fingerprint.Dimensions * sizeof(float))
        {
            Record("query-embedding", true);
            return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        }

        Record("query-embedding", false);
        IReadOnlyList<EmbeddingResult> results;
        try
        {
            results = await provider.EmbedAsync([query], EmbeddingPurpose.Query, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new UpstreamPluginException($"The embedding provider failed on the query: {ex.Message}", ex);
        }

        if (results.Count != 1 || !results[0].Succeeded)
        {
            throw new RequestValidationException("query", results.Count == 1 ? results[0].Error! : "The provider returned no embedding for the query.");
        }

        var vector = results[0].Vector!;
        VectorMath.Validate(vector, provider.Fingerprint.Dimensions, "query");
        if (_options.QueryEmbeddingCacheSeconds > 0)
        {
            await cache.SetAsync(key, MemoryMarshal.AsBytes(vector.AsSpan()).ToArray(), TimeSpan.FromSeconds(_options.QueryEmbeddingCacheSeconds), cancellationToken);
        }

        return vector;
    }

    private string Validate(SearchRequest? request, out int topK, out string mode, out VectorFilter filter)
    {
        if (request is null)
        {
            throw new RequestValidationException("$", "The body must be a JSON object with at least 'query'.");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = request.Query is null ? string.Empty : TextNormalizer.Normalize(request.Query);
        if (query.Length == 0)
        {
            errors["query"] = ["query is required and must not be empty."];
        }
        else if (query.Length > _options.MaxQueryChars)
        {
            errors["query"] = [$"query is at most {_options.MaxQueryChars} characters (RagPlatform:Query:MaxQueryChars)."];
        }

        topK = request.TopK ?? 10;
        if (topK < 1 || topK > _options.MaxTopK)
        {
            errors["topK"] = [$"topK is between 1 and {_options.MaxTopK}."];
        }

        mode = (request.Mode ?? SearchModes.Dense).ToLowerInvariant();
        if (mode is SearchModes.Lexical or SearchModes.Hybrid)
        {
            errors["mode"] = [$"mode '{mode}' is not available yet: this build searches dense vectors only (mode 'dense')."];
        }
        else if (mode != SearchModes.Dense)
        {
            errors["mode"] = ["mode is 'dense' (lexical and hybrid are not available yet)."];
        }

        var tags = PayloadValidation.ValidateTags(request.Tags, "tags", errors);
        var metadata = PayloadValidation.ValidateMetadata(request.Filter, "filter", errors);
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        filter = new VectorFilter(tags, metadata);
        return query;
    }

    private void Record(string tier, bool hit) => _cacheLookups.Add(1,
        new KeyValuePair<string, object?>("tier", tier), new KeyValuePair<string, object?>("outcome", hit ? "hit" : "miss"));
}
