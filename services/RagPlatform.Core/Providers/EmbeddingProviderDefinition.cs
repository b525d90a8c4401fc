using Microsoft.Extensions.Configuration;
using RagPlatform.Core.Configuration;

namespace RagPlatform.Core.Providers;

/// <summary>
/// What the host itself reads from a provider's section <c>RagPlatform:Embedding:Providers:&lt;name&gt;</c>, beside
/// the settings the plugin binds: which plugin serves the name, what stands in when it fails, which provider
/// serves each purpose, and what it costs.
/// </summary>
public sealed class EmbeddingProviderDefinition
{
    /// <summary>The plugin that serves this name; default: the name itself. Lets one plugin serve several
    /// configured providers (OpenAI direct as "openai", a gateway as "openai-gateway" with <c>Plugin: openai</c>).</summary>
    public string? Plugin { get; set; }

    /// <summary>Providers tried in order when this one fails a whole call. Each must produce the same vector
    /// space (fingerprint equal but for the provider); anything else is refused at start-up.</summary>
    public List<string> Fallback { get; set; } = [];

    /// <summary>Which provider serves each purpose; unset purposes use this provider. Same vector-space rule.</summary>
    public EmbeddingRoutes Routes { get; set; } = new();

    /// <summary>Price per 1,000 billed tokens, in the budget's currency; 0 for a free (local) provider.</summary>
    public decimal PricePer1KTokens { get; set; }

    public bool IsComposite => Fallback.Count > 0 || Routes.Document is not null || Routes.Query is not null;

    /// <summary>True when the host wraps the plugin: a chain, routes, or a price to account.</summary>
    public bool NeedsHostHandling => IsComposite || PricePer1KTokens > 0;

    public const string ProvidersSection = $"{RagPlatformOptions.SectionName}:Embedding:Providers";

    public static string SectionPath(string name) => $"{ProvidersSection}:{name}";

    public static EmbeddingProviderDefinition Read(IConfiguration configuration, string name) =>
        configuration.GetSection(SectionPath(name)).Get<EmbeddingProviderDefinition>() ?? new EmbeddingProviderDefinition();
}

public sealed class EmbeddingRoutes
{
    /// <summary>The provider that embeds documents (indexing), e.g. a local server of the model.</summary>
    public string? Document { get; set; }

    /// <summary>The provider that embeds queries, e.g. the hosted API of the same model.</summary>
    public string? Query { get; set; }
}
