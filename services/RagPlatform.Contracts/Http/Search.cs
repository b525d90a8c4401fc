using System.Text.Json;

namespace RagPlatform.Contracts.Http;

/// <summary>Body of <c>POST /v1/collections/{name}/search</c>.</summary>
/// <param name="Rerank">Rerank this search's candidates with the configured reranker (true), or not (false);
/// absent: <c>RagPlatform:Query:RerankByDefault</c> decides when a reranker is configured.</param>
/// <param name="RerankTopN">How many of the best candidates the reranker reads (at least topK is used); absent:
/// <c>RagPlatform:Query:RerankTopN</c>.</param>
public sealed record SearchRequest(
    string? Query,
    int? TopK,
    string? Mode,
    IReadOnlyList<string?>? Tags,
    IReadOnlyDictionary<string, JsonElement>? Filter,
    bool? Rerank = null,
    int? RerankTopN = null);

/// <summary>
/// One chunk found. <c>Section</c> (the heading path above the chunk, outermost first, joined by " &gt; ") and
/// <c>PageStart</c>/<c>PageEnd</c> are set for chunks of parsed files where the format has them, so an answer can cite them.
/// </summary>
public sealed record SearchResult(
    string DocumentId,
    string ChunkId,
    string? Title,
    string Text,
    float Score,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    string? Section = null,
    int? PageStart = null,
    int? PageEnd = null);

public sealed record SearchResponse(IReadOnlyList<SearchResult> Results, bool Cached, double TookMs, string Mode);

public static class SearchModes
{
    public const string Dense = "dense";
    public const string Lexical = "lexical";
    public const string Hybrid = "hybrid";
}

/// <summary>
/// Body of <c>POST /v1/collections/{name}/context</c>: the search to run and the budget of the context it
/// is packed into (seed 002 §7.2: 6,000 characters and 3 documents by default).
/// </summary>
public sealed record ContextRequest(
    string? Query,
    int? MaxChars,
    int? MaxDocs,
    int? Candidates,
    string? Mode,
    IReadOnlyList<string?>? Tags,
    IReadOnlyDictionary<string, JsonElement>? Filter);

/// <summary>
/// One document's share of a packed context; <c>Index</c> is its [n] marker in <c>Context</c>. For a parsed file,
/// <c>Section</c>, <c>PageStart</c> and <c>PageEnd</c> are those of its best chunk (also in the source's header line of the context).
/// </summary>
public sealed record ContextSource(
    int Index,
    string DocumentId,
    string? Title,
    IReadOnlyList<string> ChunkIds,
    float Score,
    int Chars,
    bool Compressed,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    string? Section = null,
    int? PageStart = null,
    int? PageEnd = null);

public sealed record ContextResponse(
    string Context,
    IReadOnlyList<ContextSource> Sources,
    int Chars,
    int OriginalChars,
    bool Cached,
    double TookMs,
    string Mode);
