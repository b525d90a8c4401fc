namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// What every ONNX model of this plugin is configured by (the embedder's and the reranker's options derive from
/// it): where the model folder comes from, the device and threads its session runs on, and how its batcher cuts
/// batches.
/// </summary>
public abstract class OnnxModelOptions
{
    public const int DefaultMaxBatchTokens = 1024;

    /// <summary>
    /// A local model folder in the Hugging Face layout: model.onnx or onnx/model.onnx, tokenizer.json,
    /// config.json and the model's optional sentence-transformers files.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>The model's name in fingerprints and logs (e.g. "intfloat/multilingual-e5-small"); default: the folder's name.
    /// Without <see cref="ModelPath"/>, the hub id to download (settings under <c>ModelHub:*</c>: Endpoint, Token,
    /// CacheDirectory, Offline…; HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE fill what they leave unset).</summary>
    public string? ModelId { get; set; }

    /// <summary>The hub revision (branch, tag or commit) to download when the model comes from the hub.</summary>
    public string HubRevision { get; set; } = "main";

    /// <summary>
    /// <c>auto</c> (the default): CUDA when this ONNX Runtime build has the CUDA execution provider and it starts,
    /// else the CPU (the reason is logged); <c>cpu</c>; <c>cuda</c>: CUDA or a start-up error. CUDA needs the
    /// Microsoft.ML.OnnxRuntime.Gpu.Linux build (<c>-p:OnnxRuntimeGpu=true</c>, docs/onnx.md).
    /// </summary>
    public string Device { get; set; } = "auto";

    /// <summary>The CUDA device ordinal when the device is CUDA.</summary>
    public int DeviceId { get; set; }

    /// <summary>Threads one model run uses on the CPU; 0: the cores shared out among <see cref="ConcurrentRuns"/>.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Model runs (batches) in flight at once, each on its own batcher thread; 0: on the CPU, cores ÷
    /// <see cref="IntraOpThreads"/> when that is set, else one per core, at most <see cref="AutoConcurrentRunsLimit"/>
    /// either way; on CUDA, one. See <see cref="OnnxThreading"/>.
    /// </summary>
    public int ConcurrentRuns { get; set; }

    /// <summary>Most concurrent runs the automatic choice makes (beyond it, cores go to each run's intra-op threads).</summary>
    public const int AutoConcurrentRunsLimit = 4;

    /// <summary>Largest batch the batcher sends to the model, in padded tokens (rows × longest row).</summary>
    public int MaxBatchTokens { get; set; } = DefaultMaxBatchTokens;

    /// <summary>How long the batcher waits for concurrent requests to join a batch, in milliseconds (0: never waits).</summary>
    public int BatchWindowMilliseconds { get; set; } = 2;

    /// <summary>Longest input in tokens (special tokens included); 0 takes the model's (sentence_bert_config.json, else 512).</summary>
    public int MaxSequenceLength { get; set; }

    /// <summary>The section these options are read from, for messages that name a setting.</summary>
    protected abstract string SectionName { get; }

    /// <summary>The setting's full configuration key, e.g. <c>RagPlatform:Embedding:Providers:onnx:Device</c>.</summary>
    public string SettingKey(string name) => $"{SectionName}:{name}";

    public virtual IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath) && string.IsNullOrWhiteSpace(ModelId))
        {
            yield return $"{nameof(ModelPath)} (a local model folder: model.onnx or onnx/model.onnx with tokenizer.json) or " +
                $"{nameof(ModelId)} (a hub id to download) is required.";
        }

        if (OnnxDevices.Parse(Device) is null)
        {
            yield return $"{nameof(Device)} must be \"auto\", \"cpu\" or \"cuda\" (was \"{Device}\").";
        }

        if (DeviceId < 0)
        {
            yield return $"{nameof(DeviceId)} must be 0 or more (was {DeviceId}).";
        }

        if (IntraOpThreads < 0)
        {
            yield return $"{nameof(IntraOpThreads)} must be 0 (automatic) or more (was {IntraOpThreads}).";
        }

        if (ConcurrentRuns is < 0 or > 64)
        {
            yield return $"{nameof(ConcurrentRuns)} must be between 0 (automatic) and 64 (was {ConcurrentRuns}).";
        }

        if (MaxBatchTokens < 16)
        {
            yield return $"{nameof(MaxBatchTokens)} must be at least 16 (was {MaxBatchTokens}).";
        }

        if (BatchWindowMilliseconds is < 0 or > 1000)
        {
            yield return $"{nameof(BatchWindowMilliseconds)} must be between 0 and 1000 (was {BatchWindowMilliseconds}).";
        }

        if (MaxSequenceLength is < 0 or 1 or 2 or 3 or 4)
        {
            yield return $"{nameof(MaxSequenceLength)} must be 0 (the model's) or at least 5 (was {MaxSequenceLength}).";
        }
    }
}
