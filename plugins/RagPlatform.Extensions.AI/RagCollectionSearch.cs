using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.VectorData;
using RagPlatform.Client;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Extensions.AI;

/// <summary>What every search of a <see cref="RagCollectionSearch"/> sends besides the query (the query API's own filters).</summary>
public sealed class RagCollectionSearchOptions
{
    /// <summary>Only chunks of documents with all these tags.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>Only chunks whose document metadata has these values (the query API's <c>filter</c>).</summary>
    public IReadOnlyDictionary<string, JsonElement>? Filter { get; init; }

    /// <summary>Rerank with the server's reranker (true), not (false), or as the server decides (null).</summary>
    public bool? Rerank { get; init; }
}

/// <summary>
/// A collection of the query API as Microsoft.Extensions.VectorData's <see cref="IVectorSearchable{TRecord}"/> (dense search)
/// and <see cref="IKeywordHybridSearchable{TRecord}"/> (hybrid search: dense and BM25 fused by the server), through
/// <see cref="RagPlatformClient"/>. The search value is text: the server embeds it with the collection's own model, so the
/// vectors always match. Records are the query API's <see cref="SearchResult"/>s, scores its scores.
/// Not supported (NotSupportedException): a vector as the search value (the API takes text), expression filters
/// (use <see cref="RagCollectionSearchOptions"/>), IncludeVectors, and choosing a vector or text property.
/// </summary>
public sealed class RagCollectionSearch(RagPlatformClient client, string collection, RagCollectionSearchOptions? options = null)
    : IVectorSearchable<SearchResult>, IKeywordHybridSearchable<SearchResult>
{
    private readonly RagCollectionSearchOptions _options = options ?? new RagCollectionSearchOptions();

    public string Collection { get; } = collection;

    public IAsyncEnumerable<VectorSearchResult<SearchResult>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<SearchResult>? options = null, CancellationToken cancellationToken = default)
        where TInput : notnull
    {
        if (options is not null)
        {
            Refuse(options.Filter is not null, options.IncludeVectors, options.VectorProperty is not null, textProperty: false);
        }

        return RunAsync(Text(searchValue), SearchModes.Dense, top, options?.Skip ?? 0, options?.ScoreThreshold, cancellationToken);
    }

    /// <summary>
    /// Hybrid search. The server derives the lexical side's terms from the query text; <paramref name="keywords"/> the text
    /// does not already contain are appended to it (so they count for BM25, and slightly for the dense side too).
    /// </summary>
    public IAsyncEnumerable<VectorSearchResult<SearchResult>> HybridSearchAsync<TInput>(
        TInput searchValue, ICollection<string> keywords, int top, HybridSearchOptions<SearchResult>? options = null, CancellationToken cancellationToken = default)
        where TInput : notnull
    {
        ArgumentNullException.ThrowIfNull(keywords);
        if (options is not null)
        {
            Refuse(options.Filter is not null, options.IncludeVectors, options.VectorProperty is not null, options.AdditionalProperty is not null);
        }

        var text = Text(searchValue);
        var extra = keywords.Where(k => !string.IsNullOrWhiteSpace(k) && !text.Contains(k, StringComparison.Ordinal)).ToList();
        var query = extra.Count == 0 ? text : text + " " + string.Join(' ', extra);
        return RunAsync(query, SearchModes.Hybrid, top, options?.Skip ?? 0, options?.ScoreThreshold, cancellationToken);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(RagPlatformClient) ? client
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private async IAsyncEnumerable<VectorSearchResult<SearchResult>> RunAsync(
        string query, string mode, int top, int skip, double? threshold, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        var request = new SearchRequest(query, top + skip, mode, _options.Tags?.Cast<string?>().ToList(), _options.Filter, _options.Rerank);
        var response = await client.SearchAsync(Collection, request, cancellationToken);
        foreach (var result in response.Results.Skip(skip))
        {
            if (threshold is { } minimum && result.Score < minimum)
            {
                continue;
            }

            yield return new VectorSearchResult<SearchResult>(result, result.Score);
        }
    }

    private static string Text<TInput>(TInput searchValue) => searchValue switch
    {
        string { Length: > 0 } text when !string.IsNullOrWhiteSpace(text) => text,
        string => throw new ArgumentException("The search text must not be empty.", nameof(searchValue)),
        _ => throw new NotSupportedException(
            $"The query API searches by text and embeds it with the collection's model; a {typeof(TInput).Name} cannot be sent. Pass the query as a string."),
    };

    private static void Refuse(bool filter, bool includeVectors, bool vectorProperty, bool textProperty)
    {
        if (filter)
        {
            throw new NotSupportedException("Expression filters are not translated: pass tags and metadata filters in RagCollectionSearchOptions.");
        }

        if (includeVectors)
        {
            throw new NotSupportedException("The query API does not return vectors.");
        }

        if (vectorProperty || textProperty)
        {
            throw new NotSupportedException("A collection has one vector and one text field; VectorProperty and AdditionalProperty cannot choose another.");
        }
    }
}
