using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;

namespace RagPlatform.Embedding;

/// <summary>
/// The models this process serves on <c>/v1/embeddings</c>: each configured provider under its plugin
/// name, created once (through the shared <see cref="PluginHost"/>) and tracked for its status endpoint.
/// </summary>
public sealed class ModelRegistry(PluginHost plugins, IOptions<RagPlatformOptions> options, ILogger<ModelRegistry> logger)
{
    private readonly ConcurrentDictionary<string, ModelState> _states = new(StringComparer.OrdinalIgnoreCase);

    public string DefaultModel => options.Value.Embedding.Provider;

    public IReadOnlyCollection<string> Models => plugins.EmbeddingProviderNames;

    public bool Exists(string model) => plugins.IsEmbeddingProvider(model);

    /// <summary>The shared provider for a model id (a provider plugin name with its configured settings).</summary>
    public async Task<IEmbeddingProvider> GetAsync(string model, CancellationToken cancellationToken)
    {
        var state = _states.GetOrAdd(model, _ => new ModelState());
        var started = Stopwatch.GetTimestamp();
        try
        {
            var provider = await plugins.GetEmbeddingProviderAsync(new EmbeddingSelection(model, new Dictionary<string, string?>()), cancellationToken);
            if (state.LoadTimeMs is null)
            {
                lock (state)
                {
                    if (state.LoadTimeMs is null)
                    {
                        state.LoadTimeMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        state.LoadedAt = DateTimeOffset.UtcNow;
                        state.Fingerprint = provider.Fingerprint.ToString();
                        state.MaxInputTokens = provider.MaxInputTokens;
                        if (provider is ILocalModelInfo local)
                        {
                            state.Threads = local.Threads;
                            state.Runtime = local.Runtime;
                            state.Device = local.Device;
                        }

                        logger.LogInformation("Model {Model} ready: {Fingerprint} in {LoadTimeMs:F0} ms", model, state.Fingerprint, state.LoadTimeMs);
                    }
                }
            }

            return provider;
        }
        catch (Exception ex)
        {
            state.LastError = ex.Message;
            throw;
        }
    }

    public void RecordRequest(string model, int inputs, string? error)
    {
        var state = _states.GetOrAdd(model, _ => new ModelState());
        Interlocked.Increment(ref state.Requests);
        Interlocked.Add(ref state.Inputs, inputs);
        if (error is not null)
        {
            state.LastError = error;
        }
    }

    public ModelStatus Status(string model)
    {
        var state = _states.GetOrAdd(model, _ => new ModelState());
        return new ModelStatus(
            model, state.LoadTimeMs is not null, state.Fingerprint, state.LoadTimeMs, state.LoadedAt,
            Environment.WorkingSet, state.Device, state.MaxInputTokens,
            Interlocked.Read(ref state.Requests), Interlocked.Read(ref state.Inputs), state.LastError, state.Threads, state.Runtime);
    }

    private sealed class ModelState
    {
        public long Requests;
        public long Inputs;

        public double? LoadTimeMs { get; set; }

        public DateTimeOffset? LoadedAt { get; set; }

        public string? Fingerprint { get; set; }

        public int MaxInputTokens { get; set; }

        public string? LastError { get; set; }

        public int? Threads { get; set; }

        public string? Runtime { get; set; }

        /// <summary>Where the model runs: an in-process model says (ILocalModelInfo.Device); others run on the CPU here or remotely.</summary>
        public string Device { get; set; } = "cpu";
    }
}
