using System.Text.Json;
using System.Text.Json.Serialization;

namespace RagPlatform.Contracts.Http;

/// <summary>OpenAI-compatible <c>POST /v1/embeddings</c> body. <see cref="Input"/> is a string or an array of strings.</summary>
public sealed record OpenAiEmbeddingRequest(
    [property: JsonPropertyName("input")] JsonElement Input,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("encoding_format")] string? EncodingFormat,
    [property: JsonPropertyName("dimensions")] int? Dimensions,
    [property: JsonPropertyName("user")] string? User);

public sealed record OpenAiEmbeddingData(
    [property: JsonPropertyName("object")] string ObjectType,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("embedding")] object Embedding);

public sealed record OpenAiUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

public sealed record OpenAiEmbeddingResponse(
    [property: JsonPropertyName("object")] string ObjectType,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiEmbeddingData> Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] OpenAiUsage Usage);

public sealed record OpenAiModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string ObjectType,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

public sealed record OpenAiModelList(
    [property: JsonPropertyName("object")] string ObjectType,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiModel> Data);

/// <summary><c>GET /v1/models/{id}/status</c>: what the shared model in this process is doing.</summary>
public sealed record ModelStatus(
    string Id,
    bool Loaded,
    string? Fingerprint,
    double? LoadTimeMs,
    DateTimeOffset? LoadedAt,
    long ProcessMemoryBytes,
    string Device,
    int MaxInputTokens,
    long Requests,
    long Inputs,
    string? LastError,
    int? Threads = null,
    string? Runtime = null);
