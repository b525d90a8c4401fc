using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagPlatform.Sdk;

namespace RagPlatform.Extensions.AI;

/// <summary>
/// The entry point of a provider backed by a registered <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>: the host
/// creates it like a plugin found on disk, with its settings (<see cref="EmbeddingGeneratorProviderOptions"/>) from
/// <c>RagPlatform:Embedding:Providers:&lt;name&gt;</c> and per-collection overrides.
/// </summary>
public sealed class EmbeddingGeneratorProviderPlugin(string name, Func<IEmbeddingGenerator<string, Embedding<float>>> generator) : IEmbeddingProviderPlugin
{
    public string Name { get; } = name;

    public IReadOnlyList<string> ValidateSettings(IConfiguration settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new EmbeddingGeneratorProviderOptions();
        settings.Bind(options);
        var prefix = settings is IConfigurationSection section ? section.Path + ": " : "";
        return options.Validate().Select(problem => prefix + problem).ToList();
    }

    public ValueTask<IEmbeddingProvider> CreateAsync(PluginContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.BindOptions<EmbeddingGeneratorProviderOptions>(o => o.Validate());
        // The generator belongs to the service container, which disposes it; nothing here to wait for.
        return ValueTask.FromResult<IEmbeddingProvider>(new EmbeddingGeneratorProvider(generator(), options, ownsGenerator: false));
    }
}

public static class EmbeddingGeneratorProviderExtensions
{
    /// <summary>
    /// Makes the registered <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (keyed by <paramref name="serviceKey"/>,
    /// or the unkeyed one) an embedding provider of the platform named <paramref name="name"/>: collections choose it as
    /// <c>"embedding": {"provider": "&lt;name&gt;"}</c>. Its fingerprint is configured at
    /// <c>RagPlatform:Embedding:Providers:&lt;name&gt;:Fingerprint</c>.
    /// </summary>
    public static IServiceCollection AddEmbeddingGeneratorProvider(this IServiceCollection services, string name, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.AddSingleton<IEmbeddingProviderPlugin>(sp => new EmbeddingGeneratorProviderPlugin(name, () => serviceKey is null
            ? sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>()
            : sp.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(serviceKey)));
        return services;
    }
}
