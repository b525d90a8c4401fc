using System.Diagnostics;
using RagPlatform.Plugins.Onnx.Interop;

namespace RagPlatform.Plugins.Onnx;

/// <summary>
/// The process-wide registry of loaded models, keyed by model file and thread count: however many
/// providers (collections, services in one process, tests) name the same model, it is loaded once and
/// every caller shares its session and batcher. The last lease released unloads it.
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

    /// <summary>A lease on the shared model for these settings, loading it on first use.</summary>
    public static SharedModel Acquire(OrtRuntime runtime, ModelFolder folder, OnnxEmbedderOptions options, int padTokenId)
    {
        var key = string.Join('|', runtime.LibraryPath, folder.ModelFile, options.IntraOpThreads);
        lock (Gate)
        {
            if (!Models.TryGetValue(key, out var model))
            {
                // Loading under the lock: a second caller for the same model waits for this load instead of loading a copy.
                model = new SharedModel(key, runtime, folder, options, padTokenId);
                Models[key] = model;
            }

            model.Leases++;
            return model;
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

        await model.Batcher.DisposeAsync();
        model.Encoder.Dispose();
    }
}

/// <summary>One loaded model: its session, its batcher, and what its status reports.</summary>
internal sealed class SharedModel
{
    public SharedModel(string key, OrtRuntime runtime, ModelFolder folder, OnnxEmbedderOptions options, int padTokenId)
    {
        Key = key;
        var started = Stopwatch.GetTimestamp();
        Encoder = new EncoderModel(runtime, folder.ModelFile, options.IntraOpThreads, folder.HiddenSize);
        Batcher = new EmbeddingBatcher(Encoder, padTokenId, options.MaxBatchTokens, TimeSpan.FromMilliseconds(options.BatchWindowMilliseconds));
        LoadTime = Stopwatch.GetElapsedTime(started);
        IntraOpThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : Environment.ProcessorCount;
    }

    public string Key { get; }

    public EncoderModel Encoder { get; }

    public EmbeddingBatcher Batcher { get; }

    public TimeSpan LoadTime { get; }

    public int IntraOpThreads { get; }

    /// <summary>Guarded by the registry's lock.</summary>
    public int Leases { get; set; }
}
