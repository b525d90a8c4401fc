using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagPlatform.ModelHub;
using RagPlatform.Plugins.Onnx;
using RagPlatform.Sdk;
using RagPlatform.Tokenizers;

[assembly: RagPlugin(typeof(OnnxEmbedderPlugin))]

namespace RagPlatform.Plugins.Onnx;

/// <summary>Entry point of the "onnx" provider: a local ONNX model run by ONNX Runtime in this process.</summary>
public sealed class OnnxEmbedderPlugin : IEmbeddingProviderPlugin
{
    public string Name => OnnxEmbeddingProvider.ProviderName;

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new OnnxEmbedderOptionsValidator());

    public async ValueTask<IEmbeddingProvider> CreateAsync(PluginContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new OnnxEmbedderOptionsValidator());
        var folder = ModelFolder.Open(await ResolveModelDirectoryAsync(options, context, cancellationToken));
        var tokenizer = TokenizerFile.Load(folder.TokenizerFile);
        return new OnnxEmbeddingProvider(options, folder, tokenizer, context.LoggerFactory.CreateLogger<OnnxEmbeddingProvider>());
    }

    /// <summary>
    /// The one place a model folder is found: <see cref="OnnxEmbedderOptions.ModelPath"/>, a local folder (a relative
    /// path resolves against the working directory), else <see cref="OnnxEmbedderOptions.ModelId"/> from the hub,
    /// downloaded once into the cache (default <c>&lt;data&gt;/models</c>) with the plugin's <c>ModelHub:*</c>
    /// settings. A model that cannot be had fails here with what to set, before anything is served.
    /// </summary>
    internal static async Task<string> ResolveModelDirectoryAsync(OnnxModelOptions options, PluginContext context, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.ModelPath))
        {
            return Path.GetFullPath(options.ModelPath);
        }

        var hub = ModelHubOptions.FromConfiguration(context.Settings.GetSection("ModelHub"));
        hub.CacheDirectory ??= Path.Combine(context.DataDirectory, "models");
        using var resolver = new ModelResolver(hub, context.CreateHttpClient(), context.LoggerFactory.CreateLogger<ModelResolver>(), ownsHttpClient: true);
        return await resolver.ResolveAsync(options.ModelId!, options.HubRevision, cancellationToken);
    }
}
