namespace RagPlatform.Sdk;

/// <summary>What a text is embedded for: some models embed queries and passages differently (e5's prefixes).</summary>
public enum EmbeddingPurpose
{
    Document,
    Query,
}

/// <summary>
/// Turns texts into vectors. One instance serves every caller in a process, concurrently: implementations
/// must be thread-safe and should hold their model once.
/// </summary>
public interface IEmbeddingProvider : IAsyncDisposable
{
    /// <summary>The exact vector space this provider produces.</summary>
    ModelFingerprint Fingerprint { get; }

    /// <summary>The longest input, in the model's tokens, that is embedded without truncation.</summary>
    int MaxInputTokens { get; }

    /// <summary>The most inputs one <see cref="EmbedAsync"/> call should carry; the host splits larger batches.</summary>
    int MaxBatchSize { get; }

    /// <summary>
    /// Whether the host should keep this provider's document vectors in its embedding cache (in process and in
    /// Redis). True for anything that costs money or model time; a provider that computes a vector faster than a
    /// cache lookup and a hash (the model-free hashing embedder) says false, so bulk ingestion does not pay for it.
    /// </summary>
    bool CacheVectors => true;

    /// <summary>Counts the model's tokens in a text (an upper estimate is acceptable), so the host can chunk to fit.</summary>
    int CountTokens(string text);

    /// <summary>
    /// Embeds a batch. Returns exactly one result per input, in input order: a bad input fails its own result,
    /// not the batch. Throw only when the whole call failed (provider unreachable, cancelled).
    /// </summary>
    Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(
        IReadOnlyList<string> inputs,
        EmbeddingPurpose purpose,
        CancellationToken cancellationToken);
}

/// <summary>The outcome for one input: a vector, or the reason it has none.</summary>
public readonly record struct EmbeddingResult
{
    private EmbeddingResult(float[]? vector, string? error, int tokens)
    {
        Vector = vector;
        Error = error;
        Tokens = tokens;
    }

    public float[]? Vector { get; }

    public string? Error { get; }

    /// <summary>Tokens the provider counted (or billed) for this input.</summary>
    public int Tokens { get; }

    public bool Succeeded => Vector is not null;

    public static EmbeddingResult Success(float[] vector, int tokens) =>
        new(vector ?? throw new ArgumentNullException(nameof(vector)), null, tokens);

    public static EmbeddingResult Failure(string error) =>
        new(null, string.IsNullOrWhiteSpace(error) ? "embedding failed" : error, 0);
}

/// <summary>
/// Optional: a provider that runs its model inside this process says how, for the model status endpoint
/// (<c>GET /v1/models/{id}/status</c>). Remote providers do not implement it.
/// </summary>
public interface ILocalModelInfo
{
    /// <summary>Threads one model run uses.</summary>
    int Threads { get; }

    /// <summary>The inference runtime and its version (e.g. "onnxruntime 1.32.0").</summary>
    string Runtime { get; }

    /// <summary>Where the model runs: "cpu", or "cuda:N" for a CUDA device.</summary>
    string Device => "cpu";
}
