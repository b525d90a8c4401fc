namespace RagPlatform.Plugins.Onnx;

/// <summary>Settings of the "onnx" provider (section <c>RagPlatform:Embedding:Providers:onnx</c>).</summary>
public sealed class OnnxEmbedderOptions
{
    public const int DefaultMaxBatchTokens = 1024;

    /// <summary>
    /// A local model folder in the Hugging Face layout: model.onnx or onnx/model.onnx, tokenizer.json,
    /// config.json, optional 1_Pooling/config.json and sentence_bert_config.json.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>The model's name in fingerprints and logs (e.g. "intfloat/multilingual-e5-small"); default: the folder's name.
    /// Without <see cref="ModelPath"/>, the hub id to download (settings under <c>ModelHub:*</c>: Endpoint, Token,
    /// CacheDirectory, Offline…; HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE fill what they leave unset).</summary>
    public string? ModelId { get; set; }

    /// <summary>The hub revision (branch, tag or commit) to download when the model comes from the hub.</summary>
    public string HubRevision { get; set; } = "main";

    /// <summary>The vector space's revision in the fingerprint; default: a hash of the model file.</summary>
    public string? Revision { get; set; }

    /// <summary>Full path of libonnxruntime.so (1.30 or newer); default: see docs/onnx.md for the places searched.</summary>
    public string? NativeLibraryPath { get; set; }

    /// <summary>Threads one model run uses; 0 lets ONNX Runtime take one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Largest batch the batcher sends to the model, in padded tokens (rows × longest row).</summary>
    public int MaxBatchTokens { get; set; } = DefaultMaxBatchTokens;

    /// <summary>How long the batcher waits for concurrent requests to join a batch, in milliseconds (0: never waits).</summary>
    public int BatchWindowMilliseconds { get; set; } = 2;

    /// <summary>Longest input in tokens (special tokens included); 0 takes the model's (sentence_bert_config.json, else 512).</summary>
    public int MaxSequenceLength { get; set; }

    /// <summary>The most inputs per call the host should send.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>"mean" or "cls"; empty reads the model's 1_Pooling/config.json (mean when absent).</summary>
    public string? Pooling { get; set; }

    /// <summary>Scale every vector to unit length (the default; cosine then equals the dot product).</summary>
    public bool Normalize { get; set; } = true;

    /// <summary>Put before a query; null detects it from the model id (e5 models: "query: ").</summary>
    public string? QueryPrefix { get; set; }

    /// <summary>Put before a document; null detects it from the model id (e5 models: "passage: ").</summary>
    public string? DocumentPrefix { get; set; }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath) && string.IsNullOrWhiteSpace(ModelId))
        {
            yield return $"{nameof(ModelPath)} (a local model folder: model.onnx or onnx/model.onnx with tokenizer.json) or " +
                $"{nameof(ModelId)} (a hub id to download, e.g. intfloat/multilingual-e5-small) is required.";
        }

        if (IntraOpThreads < 0)
        {
            yield return $"{nameof(IntraOpThreads)} must be 0 (one per core) or more (was {IntraOpThreads}).";
        }

        if (MaxBatchTokens < 16)
        {
            yield return $"{nameof(MaxBatchTokens)} must be at least 16 (was {MaxBatchTokens}).";
        }

        if (BatchWindowMilliseconds is < 0 or > 1000)
        {
            yield return $"{nameof(BatchWindowMilliseconds)} must be between 0 and 1000 (was {BatchWindowMilliseconds}).";
        }

        if (MaxSequenceLength is < 0 or 1 or 2)
        {
            yield return $"{nameof(MaxSequenceLength)} must be 0 (the model's) or at least 3 (was {MaxSequenceLength}).";
        }

        if (MaxBatchSize < 1)
        {
            yield return $"{nameof(MaxBatchSize)} must be positive (was {MaxBatchSize}).";
        }

        if (!string.IsNullOrWhiteSpace(Pooling) && PoolingModes.Parse(Pooling) is null)
        {
            yield return $"{nameof(Pooling)} must be \"mean\" or \"cls\" (was \"{Pooling}\").";
        }

        if (!string.IsNullOrEmpty(NativeLibraryPath) && !Path.IsPathFullyQualified(NativeLibraryPath))
        {
            yield return $"{nameof(NativeLibraryPath)} must be a full path to libonnxruntime.so.";
        }
    }
}

/// <summary>How token vectors become one text vector.</summary>
public enum PoolingMode
{
    /// <summary>Average of the token vectors under the attention mask.</summary>
    Mean,

    /// <summary>The first ([CLS]) token's vector.</summary>
    Cls,
}

internal static class PoolingModes
{
    public static PoolingMode? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "mean" => PoolingMode.Mean,
        "cls" => PoolingMode.Cls,
        _ => null,
    };

    public static string Name(PoolingMode mode) => mode == PoolingMode.Cls ? "cls" : "mean";
}
