using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Errors;
using RagPlatform.Lexical;
using RagPlatform.Core.Plugins;
using RagPlatform.Core.Search;
using RagPlatform.Core.Text;
using RagPlatform.Core.Validation;
using RagPlatform.Sdk;

namespace RagPlatform.Query;

/// <summary>
/// Answers a search in one of three modes: <c>dense</c> embeds the query (cached per model fingerprint) and
/// searches the collection's vector backend; <c>lexical</c> ranks chunks by BM25 over Korean-aware terms;
/// <c>hybrid</c> (the default) takes candidates from both and fuses them, then lets the configured
/// reranker, if any, reorder them. Filters apply on both sides. Results are cached under the collection's
/// version and its active physical version (a re-index's switch changes both), so any change invalidates them.
/// </summary>
public sealed class SearchService(
    CollectionService collections,
    ILexicalIndex lexical,
    PluginHost plugins,
    IRagCache cache,
    EmbeddingCache embeddingCache,
    VectorSearchFallback vectorSearch,
    IOptions<RagPlatformOptions> options,
    IOptions<LexicalOptions> lexicalOptions,
    IMeterFactory meterFactory)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly QueryOptions _options = options.Value.Query;
    private readonly FusionSettings _fusion = options.Value.Query.FusionSettings;

    private readonly string _strategy = CacheStrategy(options.Value.Query, lexicalOptions.Value);
    private readonly Histogram<double> _duration = meterFactory.Create("RagPlatform.Query")
        .CreateHistogram<double>("ragplatform.search.duration", unit: "s", description: "Search latency, by mode and cache outcome.");

    /// <summary>
    /// Part of the result-cache key: everything configured that changes a ranking (fusion, its weights and depth, the
    /// reranker, and the lexical analyzer with its BM25 parameters), so a shared cache never hands one configuration's
    /// results to another.
    /// </summary>
    public static string CacheStrategy(QueryOptions query, LexicalOptions lexical) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{query.Fusion};k={query.RrfK};depth={query.CandidateDepth};w={query.DenseWeight}/{query.LexicalWeight};rerank={query.Reranker};" +
        $"lexical={lexical.CreateTokenizer().AnalyzerId};bm25={lexical.K1}/{lexical.B}/{lexical.K3}");

    public async Task<SearchResponse> SearchAsync(string collectionName, SearchRequest? request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var query = Validate(request, out var topK, out var mode, out var filter, out var rerankTopN);
        var collection = await collections.ResolveAsync(collectionName, cancellationToken);
        var fingerprint = collection.Provider.Fingerprint;
        if (collection.Record.Fingerprint is { } expected && expected != fingerprint.ToString())
        {
            throw new ResourceConflictException(
                $"Collection '{collectionName}' holds {expected} but the provider now produces {fingerprint}; queries would compare different vector spaces.");
        }

        // The version moves on with every change to the collection's points; the creation time tells apart a collection
        // deleted and created again under the same name, whose versions start over.
        var resultKey = CacheKinds.SearchResultPrefix + ContentHashing.Hex(
            collectionName, "\u001F", collection.VectorName, "\u001F", collection.Record.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), "\u001F",
            collection.Record.CreatedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture), "\u001F",
            fingerprint.ToString(), "\u001F", mode, "\u001F", _strategy, "\u001F", topK.ToString(System.Globalization.CultureInfo.InvariantCulture), "\u001F",
            "rerank=" + rerankTopN.ToString(System.Globalization.CultureInfo.InvariantCulture), "\u001F",
            query, "\u001F", string.Join('\u001E', filter.Tags), "\u001F",
            string.Join('\u001E', filter.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Key + "=" + m.Value.GetRawText())));
        if (_options.ResultCacheSeconds > 0 && await cache.GetAsync(resultKey, cancellationToken) is { } hit)
        {
            var cached = JsonSerializer.Deserialize<List<SearchResult>>(hit, Json)!;
            return Finish(cached, true, mode, started);
        }

        // A reranker reads its top-N in every mode, so it has something to reorder.
        var depth = Math.Max(topK, rerankTopN);
        var results = mode switch
        {
            SearchModes.Dense => await DenseAsync(collection, query, depth, filter, cancellationToken),
            SearchModes.Lexical => await LexicalAsync(collection, query, depth, filter, cancellationToken),
            _ => await HybridAsync(collection, query, depth, filter, cancellationToken),
        };
        if (rerankTopN > 0)
        {
            results = await RerankAsync(query, results.Take(depth).ToList(), cancellationToken);
        }

        var output = results.Take(topK).Select(h =>
        {
            var location = ChunkLocation.Of(h.Payload.Metadata);
            return new SearchResult(
                h.Payload.DocumentId, h.Id, h.Payload.Title, h.Payload.Text, h.Score, h.Payload.Tags, ChunkLocation.Strip(h.Payload.Metadata),
                location.Section, location.PageStart, location.PageEnd);
        }).ToList();
        if (_options.ResultCacheSeconds > 0)
        {
            await cache.SetAsync(resultKey, JsonSerializer.SerializeToUtf8Bytes(output, Json), TimeSpan.FromSeconds(_options.ResultCacheSeconds), cancellationToken);
        }

        return Finish(output, false, mode, started);
    }

    private async Task<IReadOnlyList<VectorSearchHit>> DenseAsync(
        ResolvedCollection collection, string query, int topK, VectorFilter filter, CancellationToken cancellationToken)
    {
        var vector = await EmbedQueryAsync(collection.Provider, query, cancellationToken);
        return await vectorSearch.SearchAsync(collection, new VectorQuery(vector, topK, filter.IsEmpty ? null : filter), cancellationToken);
    }

    /// <summary>
    /// Both sides' top candidates, fused by <see cref="HybridFusion"/> with the configured method and weights. A
    /// backend that fuses inside itself (Qdrant's Query API) is asked to only for <c>rrf</c>, the one fusion it
    /// runs; for the other methods its two lists are fetched and fused here, like every other backend's.
    /// </summary>
    private async Task<IReadOnlyList<VectorSearchHit>> HybridAsync(
        ResolvedCollection collection, string query, int topK, VectorFilter filter, CancellationToken cancellationToken)
    {
        var depth = Math.Max(topK, _options.CandidateDepth);
        if (_fusion.Method == FusionMethod.Rrf && collection.Backend is IHybridSearchBackend inside)
        {
            // The backend keeps the lexical terms beside the vectors and fuses both sides itself (Qdrant's Query
            // API): one round trip, the same weighted reciprocal-rank fusion as HybridFusion's.
            var vector = await EmbedQueryAsync(collection.Provider, query, cancellationToken);
            return await inside.SearchHybridAsync(
                collection.VectorName,
                new HybridQuery(vector, query, topK, depth, _options.DenseWeight, _options.LexicalWeight, _options.RrfK, filter.IsEmpty ? null : filter),
                cancellationToken);
        }

        // The two sides are independent CPU work (the embedded ones complete synchronously): run the lexical
        // one on another thread so one query's latency is the slower side, not the sum.
        var lexicalTask = Task.Run(() => LexicalAsync(collection, query, depth, filter, cancellationToken), cancellationToken);
        var denseHits = await DenseAsync(collection, query, depth, filter, cancellationToken);
        var lexicalHits = await lexicalTask;
        return HybridFusion.Fuse(denseHits, lexicalHits, h => h.Id, h => h.Score, _fusion)
            .Select(f => f.Item with { Score = (float)f.Score })
            .ToList();
    }

    /// <summary>BM25 from the backend when it keeps the terms itself (a Qdrant collection has no separate lexical index), else from the lexical index.</summary>
    private Task<IReadOnlyList<VectorSearchHit>> LexicalAsync(
        ResolvedCollection collection, string query, int topK, VectorFilter filter, CancellationToken cancellationToken) =>
        collection.Backend is IHybridSearchBackend inside
            ? inside.SearchLexicalAsync(collection.VectorName, new LexicalQuery(query, topK, filter.IsEmpty ? null : filter), cancellationToken)
            : lexical.SearchAsync(collection.Name, query, topK, filter, cancellationToken);

    /// <summary>The reranker's scores order the candidates it read (and become their scores).</summary>
    private async Task<IReadOnlyList<VectorSearchHit>> RerankAsync(string query, IReadOnlyList<VectorSearchHit> hits, CancellationToken cancellationToken)
    {
        if (hits.Count == 0)
        {
            return hits;
        }

        IReadOnlyList<float> scores;
        try
        {
            var reranker = await plugins.GetRerankerAsync(_options.Reranker!, cancellationToken);
            scores = await reranker.ScoreAsync(
                query, hits.Select(h => new RerankCandidate(h.Id, h.Payload.Title, h.Payload.Text)).ToList(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new UpstreamPluginException($"Reranker '{_options.Reranker}' failed: {ex.Message}", ex);
        }

        if (scores.Count != hits.Count)
        {
            throw new UpstreamPluginException($"Reranker '{_options.Reranker}' returned {scores.Count} scores for {hits.Count} candidates.");
        }

        return hits.Select((h, i) => h with { Score = scores[i] })
            .OrderByDescending(h => h.Score)
            .ThenBy(h => h.Id, StringComparer.Ordinal)
            .ToList();
    }

    private SearchResponse Finish(List<SearchResult> results, bool cached, string mode, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("mode", mode), new KeyValuePair<string, object?>("cached", cached));
        return new SearchResponse(results, cached, Math.Round(elapsed.TotalMilliseconds, 3), mode);
    }

    /// <summary>The query's embedding, from the embedding cache (same keying as documents', query purpose) or the provider.</summary>
    private async Task<float[]> EmbedQueryAsync(IEmbeddingProvider provider, string query, CancellationToken cancellationToken)
    {
        if (_options.QueryEmbeddingCacheSeconds > 0
            && (await embeddingCache.GetAsync(provider.Fingerprint, EmbeddingPurpose.Query, [query], cancellationToken))[0] is { } known)
        {
            return known;
        }

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
            await embeddingCache.SetAsync(provider.Fingerprint, EmbeddingPurpose.Query, [new(query, vector)],
                TimeSpan.FromSeconds(_options.QueryEmbeddingCacheSeconds), cancellationToken);
        }

        return vector;
    }

    /// <param name="rerankTopN">How many candidates the reranker reads; 0 when this search is not reranked.</param>
    private string Validate(SearchRequest? request, out int topK, out string mode, out VectorFilter filter, out int rerankTopN)
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

        mode = (request.Mode ?? _options.DefaultMode).ToLowerInvariant();
        if (mode is not (SearchModes.Dense or SearchModes.Lexical or SearchModes.Hybrid))
        {
            errors["mode"] = ["mode is 'hybrid', 'dense' or 'lexical'."];
        }

        var configured = !string.IsNullOrWhiteSpace(_options.Reranker);
        var rerank = request.Rerank ?? (configured && _options.RerankByDefault);
        rerankTopN = 0;
        if (request.Rerank == true && !configured)
        {
            errors["rerank"] = ["rerank is true but no reranker is configured (RagPlatform:Query:Reranker)."];
        }
        else if (request.RerankTopN is { } asked && (asked < 1 || asked > _options.MaxRerankTopN))
        {
            errors["rerankTopN"] = [$"rerankTopN is between 1 and {_options.MaxRerankTopN} (RagPlatform:Query:MaxRerankTopN)."];
        }
        else if (rerank)
        {
            rerankTopN = Math.Max(request.RerankTopN ?? _options.RerankTopN, topK);
        }

        var tags = PayloadValidation.ValidateTags(request.Tags, "tags", errors);
        var metadata = PayloadValidation.ValidateMetadata(request.Filter, "filter", errors, allowReserved: true);
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        filter = new VectorFilter(tags, metadata);
        return query;
    }
}
