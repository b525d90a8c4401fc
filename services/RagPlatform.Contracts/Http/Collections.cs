namespace RagPlatform.Contracts.Http;

/// <summary>Body of <c>PUT /v1/collections/{name}</c>. Omitted parts keep their current (or default) values.</summary>
public sealed record CollectionSettingsInput(
    EmbeddingSelectionInput? Embedding,
    string? VectorBackend,
    ChunkingInput? Chunking);

/// <summary>
/// Which provider embeds the collection, with per-collection setting overrides layered over the
/// provider's configuration section (e.g. a model name). Secrets belong in configuration, not here.
/// </summary>
public sealed record EmbeddingSelectionInput(string? Provider, IReadOnlyDictionary<string, string?>? Settings);

public sealed record ChunkingInput(int? MaxTokens, int? OverlapTokens);

public sealed record EmbeddingSelection(string Provider, IReadOnlyDictionary<string, string?> Settings);

public sealed record ChunkingSettings(int MaxTokens, int OverlapTokens);

public sealed record CollectionSettings(EmbeddingSelection Embedding, string VectorBackend, ChunkingSettings Chunking);

public sealed record CollectionStats(
    string Name,
    CollectionSettings Settings,
    string? ModelFingerprint,
    long Documents,
    long Chunks,
    long Embedded,
    long Pending,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int ActiveVersion = 1,
    string? VectorCollection = null,
    ReindexStatus? Reindex = null);

/// <summary>
/// Body of <c>POST /v1/collections/{name}/reindex</c>: the embedding (and optionally the vector backend) the
/// collection's next version is built with. Omitted parts keep the collection's current values.
/// </summary>
public sealed record ReindexRequest(EmbeddingSelectionInput? Embedding, string? VectorBackend);

/// <summary>Answer of <c>POST /v1/collections/{name}/reindex</c>: follow the job (or the collection's <c>reindex</c>) for progress.</summary>
public sealed record ReindexAccepted(Guid JobId, string Collection, int TargetVersion, int Total);

/// <summary>A re-index in progress (<c>running</c>) or given up (<c>failed</c>, the active version untouched).</summary>
public sealed record ReindexStatus(
    int TargetVersion,
    string State,
    string ModelFingerprint,
    string VectorBackend,
    string VectorCollection,
    Guid JobId,
    int Total,
    int Processed,
    int Failed,
    string? Error,
    DateTimeOffset StartedAt);

public sealed record CollectionList(IReadOnlyList<CollectionStats> Collections);
