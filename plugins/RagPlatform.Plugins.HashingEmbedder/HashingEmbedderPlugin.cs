using Microsoft.Extensions.Configuration;
using RagPlatform.Plugins.HashingEmbedder;
using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(HashingEmbedderPlugin))]

namespace RagPlatform.Plugins.HashingEmbedder;

/// <summary>Entry point of the built-in "hashing" provider: needs no model, files or network.</summary>
public sealed class HashingEmbedderPlugin : IEmbeddingProviderPlugin
{
    public string Name => HashingEmbeddingProvider.ProviderName;

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new HashingEmbedderOptionsValidator());

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IEmbeddingProvider> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IEmbeddingProvider Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new HashingEmbeddingProvider(context.BindOptions(new HashingEmbedderOptionsValidator()));
    }
}
