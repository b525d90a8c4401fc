using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// The process-wide registry of loaded models, keyed by what the model is (embedder or reranker), its file,
/// device and threading: however many providers (collections, services in one process, tests) name the same
/// model, it is loaded once and every caller shares its session and batcher. The last lease released unloads it.
/// </summary>
internal static class SharedModels
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, SharedModel> Models = new(StringComparer.Ordinal);

    /// <summary>How many models are loaded in this process now.</summary>
    public static int LoadedCount
    {
        get
        {
            lock (Gate)
            {
                return Models.Count;
            }
        }
    }

    /// <summary>The key a model is shared under.</summary>
    public static string KeyOf(string kind, string modelFile, OnnxModelOptions options) =>
        string.Join('|', kind, modelFile, OnnxDevices.Parse(options.Device), options.DeviceId, options.IntraOpThreads, options.ConcurrentRuns);

    /// <summary>A lease on the shared model under <paramref name="key"/>, loading it with <paramref name="load"/> on first use.</summary>
    public static T Acquire<T>(string key, Func<T> load)
        where T : SharedModel
    {
        lock (Gate)
        {
            if (!Models.TryGetValue(key, out var model))
            {
                // Loading under the lock: a second caller for the same model waits for this load instead of loading a copy.
                model = load();
                model.Key = key;
                Models[key] = model;
            }

            model.Leases++;
            return (T)model;
        }
    }

    public static async ValueTask ReleaseAsync(SharedModel model)
    {
        lock (Gate)
        {
            if (--model.Leases > 0)
            {
                return;
            }

            Models.Remove(model.Key);
        }

        await model.UnloadAsync();
    }
}

/// <summary>One loaded model: what its status reports, and how it is unloaded.</summary>
internal abstract class SharedModel
{
    public string Key { get; set; } = string.Empty;

    public TimeSpan LoadTime { get; protected init; }

    /// <summary>Runs in flight at once and threads per run.</summary>
    public OnnxThreading Threading { get; protected init; }

    public int IntraOpThreads => Threading.IntraOpThreads;

    /// <summary>"cpu" or "cuda:N".</summary>
    public abstract string Device { get; }

    /// <summary>Guarded by the registry's lock.</summary>
    public int Leases { get; set; }

    public abstract ValueTask UnloadAsync();
}

/// <summary>A loaded embedding model: its encoder session and its batcher.</summary>
internal sealed class SharedEncoder : SharedModel
{
    public SharedEncoder(ModelFolder folder, OnnxEmbedderOptions options, int padTokenId, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        Encoder = new EncoderModel(folder.ModelFile, options, folder.HiddenSize, logger);
        Batcher = new TokenBatcher<float[]>(
            (rows, variant, results, runOptions) =>
            {
                var (pooling, normalize) = (EmbeddingVariant)variant!;
                Encoder.Embed(rows, padTokenId, pooling, normalize, results, runOptions);
            },
            options.MaxBatchTokens,
            TimeSpan.FromMilliseconds(options.BatchWindowMilliseconds),
            Encoder.Threading.ConcurrentRuns,
            "onnx-embedder");
        LoadTime = Stopwatch.GetElapsedTime(started);
        Threading = Encoder.Threading;
    }

    public EncoderModel Encoder { get; }

    public TokenBatcher<float[]> Batcher { get; }

    public override string Device => Encoder.Device;

    public override async ValueTask UnloadAsync()
    {
        await Batcher.DisposeAsync();
        Encoder.Dispose();
    }
}

/// <summary>How one request wants its vectors: requests that differ never share a model run.</summary>
internal sealed record EmbeddingVariant(PoolingMode Pooling, bool Normalize);
