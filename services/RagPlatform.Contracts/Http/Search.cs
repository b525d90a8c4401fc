using System.Text.Json;

namespace RagPlatform.Contracts.Http;

/// <summary>Body of <c>POST /v1/collections/{name}/search</c>.</summary>
public sealed record SearchRequest(
    string? Query,
    int? TopK,
    string? Mode,
    IReadOnlyList<string?>? Tags,
    IReadOnlyDictionary<string, JsonElement>? Filter);

public sealed record SearchResult(
    string DocumentId,
    string ChunkId,
    string? Title,
    string Text,
    float Score,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, JsonElement> Metadata);

public sealed record SearchResponse(IReadOnlyList<SearchResult> Results, bool Cached, double TookMs, string Mode);

public static class SearchModes
{
    public const string Dense = "dense";
    public const string Lexical = "lexical";
    public const string Hybrid = "hybrid";
}
