using Microsoft.Extensions.Configuration;
using RagPlatform.Plugins.OpenAI;
using RagPlatform.Sdk;

[assembly: RagPlugin(typeof(OpenAIEmbedderPlugin))]

namespace RagPlatform.Plugins.OpenAI;

/// <summary>Entry point of the "openai" provider: OpenAI's embeddings API or any OpenAI-compatible server.</summary>
public sealed class OpenAIEmbedderPlugin : IEmbeddingProviderPlugin
{
    public string Name => OpenAIEmbeddingProvider.ProviderName;

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings) => SettingsValidation.Problems(settings, new OpenAIEmbedderOptionsValidator());

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IEmbeddingProvider> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IEmbeddingProvider Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions(new OpenAIEmbedderOptionsValidator());
        return new OpenAIEmbeddingProvider(
            options, context.LoggerFactory.CreateLogger(typeof(OpenAIEmbeddingProvider).FullName!), httpClient: context.CreateHttpClient(), ownsHttpClient: true);
    }
}
