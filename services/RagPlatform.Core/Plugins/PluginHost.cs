using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.IndexOwner;
using RagPlatform.Core.Providers;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Core.Plugins;

/// <summary>
/// Creates plugin instances on first use and shares them for the life of the process: one embedding
/// provider per distinct (name, settings) — so a model is loaded once — and one backend per name.
/// </summary>
public sealed class PluginHost : IAsyncDisposable
{
    private readonly PluginCatalog _catalog;
    private readonly IConfiguration _configuration;
    private readonly ILoggerFactory _loggerFactory;
    private readonly string _dataDirectory;
    private const string ManagedPrefix = "managed:";
    private readonly EmbeddingSpendLedger? _spend;
    private readonly ConcurrentDictionary<string, Lazy<IEmbeddingProvider>> _providers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _providerNames = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<IVectorBackend>> _backends = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<IReranker>> _rerankers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<IDocumentParser>> _parsers = new(StringComparer.OrdinalIgnoreCase);

    // The platform's lexical analysis as RagPlatform:Lexical configures it, for backends that index terms themselves.
    private readonly Lazy<LexicalAnalysis> _lexical;

    private readonly IndexOwnerClient? _indexOwner;
    private readonly IHttpClientFactory? _httpClients;

    // Provider entry points registered in the service container (RagPlatform.Extensions.AI's AddEmbeddingGeneratorProvider)
    // rather than found on disk: chosen by name like any plugin, and created with the same context.
    private readonly Dictionary<string, IEmbeddingProviderPlugin> _registeredProviders;

    /// <summary>The named HttpClient plugins make their outbound calls with (<see cref="PluginContext.CreateHttpClient"/>).</summary>
    public const string HttpClientName = "RagPlatform.Plugins";

    public PluginHost(
        PluginCatalog catalog, IConfiguration configuration, IOptions<RagPlatformOptions> options, ILoggerFactory loggerFactory,
        EmbeddingSpendLedger? spend = null, IndexOwnerClient? indexOwner = null, IHttpClientFactory? httpClients = null,
        IEnumerable<IEmbeddingProviderPlugin>? registeredProviders = null)
    {
        _catalog = catalog;
        _registeredProviders = (registeredProviders ?? []).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _indexOwner = indexOwner;
        _httpClients = httpClients;
        _configuration = configuration;
        _lexical = new Lazy<LexicalAnalysis>(() =>
        {
            var lexical = configuration.GetSection(Lexical.LexicalOptions.SectionName).Get<Lexical.LexicalOptions>() ?? new Lexical.LexicalOptions();
            var tokenizer = new Lexical.KoreanLexicalTokenizer(lexical.ParticleStems);
            return new LexicalAnalysis(tokenizer.Tokenize, lexical.K1, lexical.B);
        });
        _loggerFactory = loggerFactory;
        _dataDirectory = options.Value.ResolveDataDirectory();
        _spend = spend;
    }

    public PluginCatalog Catalog => _catalog;

    /// <summary>The provider plugin instances created so far, by configured name (for usage reports).</summary>
    public IReadOnlyList<(string Name, IEmbeddingProvider Provider)> CreatedEmbeddingProviders =>
        _providerNames.Where(p => _providers.TryGetValue(p.Key, out var lazy) && lazy.IsValueCreated && !p.Key.StartsWith(ManagedPrefix, StringComparison.Ordinal))
            .Select(p => (Name: p.Value, Provider: _providers[p.Key].Value))
            .OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();

    /// <summary>Names a collection may choose: every provider plugin, and every configured provider that names
    /// its plugin (<c>Providers:&lt;name&gt;:Plugin</c>) or composes others.</summary>
    public IReadOnlyCollection<string> EmbeddingProviderNames =>
        _catalog.EmbeddingProviders
            .Concat(_registeredProviders.Keys)
            .Concat(_configuration.GetSection(EmbeddingProviderDefinition.ProvidersSection).GetChildren()
                .Where(c => IsConfiguredProvider(c.Key)).Select(c => c.Key))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();

    public bool IsEmbeddingProvider(string name) => HasProviderPlugin(name) || IsConfiguredProvider(name);

    private bool HasProviderPlugin(string name) => _registeredProviders.ContainsKey(name) || _catalog.HasEmbeddingProvider(name);

    private bool IsConfiguredProvider(string name)
    {
        var definition = EmbeddingProviderDefinition.Read(_configuration, name);
        return definition.Plugin is { } plugin && HasProviderPlugin(plugin);
    }

    /// <summary>
    /// The shared provider for a selection; per-collection settings are layered over configuration. A provider
    /// with a fallback chain, purpose routes or a price comes wrapped in a <see cref="ManagedEmbeddingProvider"/>.
    /// </summary>
    public IEmbeddingProvider GetEmbeddingProvider(EmbeddingSelection selection)
    {
        var definition = EmbeddingProviderDefinition.Read(_configuration, selection.Provider);
        if (!definition.NeedsHostHandling)
        {
            return GetPluginProvider(selection.Provider, definition, selection.Settings);
        }

        var key = ManagedPrefix + SettingsKey(selection.Provider, selection.Settings);
        var lazy = _providers.GetOrAdd(key, _ => new Lazy<IEmbeddingProvider>(() => Compose(selection, definition)));
        return Resolve(lazy, _providers, key);
    }

    private IEmbeddingProvider GetPluginProvider(string name, EmbeddingProviderDefinition definition, IReadOnlyDictionary<string, string?> settings)
    {
        var registered = _registeredProviders.GetValueOrDefault(definition.Plugin ?? name);
        var descriptor = registered is null ? _catalog.GetEmbeddingProvider(definition.Plugin ?? name) : null;
        // A name served by its own plugin keeps the plugin's spelling; an alias keeps its own.
        var configuredName = definition.Plugin is null ? registered?.Name ?? descriptor!.Name : name;
        var key = SettingsKey(configuredName, settings);
        _providerNames.TryAdd(key, configuredName);
        var lazy = _providers.GetOrAdd(key, _ => new Lazy<IEmbeddingProvider>(() =>
        {
            var context = CreateContext(EmbeddingProviderDefinition.SectionPath(configuredName), settings, Path.Combine(_dataDirectory, "models", configuredName));
            return (registered ?? PluginCatalog.Instantiate<IEmbeddingProviderPlugin>(descriptor!.EntryPoint)).Create(context);
        }));
        return Resolve(lazy, _providers, key);
    }

    /// <summary>
    /// Builds the chains of a configured provider and refuses any member of another vector space: a fallback or a
    /// route may change who embeds, never what the vectors mean.
    /// </summary>
    private ManagedEmbeddingProvider Compose(EmbeddingSelection selection, EmbeddingProviderDefinition definition)
    {
        var name = selection.Provider;
        var primary = new ChainMember(name, GetPluginProvider(name, definition, selection.Settings), definition.PricePer1KTokens);

        List<ChainMember> ChainFrom(string start)
        {
            var chain = new List<ChainMember>();
            var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            void Add(string member)
            {
                if (!visited.Add(member))
                {
                    return;
                }

                var memberDefinition = EmbeddingProviderDefinition.Read(_configuration, member);
                chain.Add(string.Equals(member, name, StringComparison.OrdinalIgnoreCase)
                    ? primary
                    : new ChainMember(member, GetPluginProvider(member, memberDefinition, selection.Settings), memberDefinition.PricePer1KTokens));
                foreach (var next in memberDefinition.Fallback)
                {
                    Add(next);
                }
            }

            Add(start);
            return chain;
        }

        var documents = ChainFrom(definition.Routes.Document ?? name);
        var queries = ChainFrom(definition.Routes.Query ?? name);
        var problems = documents.Concat(queries)
            .Where(m => !m.Provider.Fingerprint.IsSameVectorSpace(primary.Provider.Fingerprint))
            .Select(m => m.Name)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(member =>
            {
                var fingerprint = documents.Concat(queries).First(m => m.Name == member).Provider.Fingerprint;
                return $"'{name}' may fall back or route to '{member}', which produces {fingerprint}, a different vector space from " +
                    $"{primary.Provider.Fingerprint}. A provider chain may only join providers of the same model, dimensions, pooling and " +
                    "normalisation; changing model means a new collection (re-index).";
            })
            .ToList();
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(EmbeddingProviderDefinition.SectionPath(name), problems);
        }

        return new ManagedEmbeddingProvider(name, documents, queries, _spend, _loggerFactory.CreateLogger<ManagedEmbeddingProvider>());
    }

    private static string SettingsKey(string name, IReadOnlyDictionary<string, string?> settings) =>
        name.ToLowerInvariant() + "|" + string.Join("|", settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Key + "=" + s.Value));

    /// <summary>The shared backend of that name (the index owner's, when this process names one).</summary>
    public IVectorBackend GetVectorBackend(string name)
    {
        var descriptor = _catalog.GetVectorBackend(name);
        var lazy = _backends.GetOrAdd(descriptor.Name, _ => new Lazy<IVectorBackend>(() =>
        {
            if (_indexOwner is not null)
            {
                return new RemoteVectorBackend(descriptor.Name, _indexOwner);
            }

            var section = $"{RagPlatformOptions.SectionName}:VectorStore:Backends:{descriptor.Name}";
            var context = CreateContext(section, null, Path.Combine(_dataDirectory, "vectors", descriptor.Name));
            return PluginCatalog.Instantiate<IVectorBackendPlugin>(descriptor.EntryPoint).Create(context);
        }));
        return Resolve(lazy, _backends, descriptor.Name);
    }

    /// <summary>The shared reranker of that name.</summary>
    public IReranker GetReranker(string name)
    {
        var descriptor = _catalog.GetReranker(name);
        var lazy = _rerankers.GetOrAdd(descriptor.Name, _ => new Lazy<IReranker>(() =>
        {
            var section = $"{RagPlatformOptions.SectionName}:Query:Rerankers:{descriptor.Name}";
            var context = CreateContext(section, null, Path.Combine(_dataDirectory, "models", descriptor.Name));
            return PluginCatalog.Instantiate<IRerankerPlugin>(descriptor.EntryPoint).Create(context);
        }));
        return Resolve(lazy, _rerankers, descriptor.Name);
    }

    /// <summary>The shared parser of the plugin that reads <paramref name="contentType"/>, with its name; null when no plugin does.</summary>
    public (string Name, IDocumentParser Parser)? GetDocumentParser(string contentType)
    {
        if (_catalog.FindDocumentParser(contentType) is not { } descriptor)
        {
            return null;
        }

        var lazy = _parsers.GetOrAdd(descriptor.Name, _ => new Lazy<IDocumentParser>(() =>
        {
            var section = $"{RagPlatformOptions.SectionName}:Ingestion:Parsers:{descriptor.Name}";
            var context = CreateContext(section, null, Path.Combine(_dataDirectory, "parsers", descriptor.Name));
            return PluginCatalog.Instantiate<IDocumentParserPlugin>(descriptor.EntryPoint).Create(context);
        }));
        return (descriptor.Name, Resolve(lazy, _parsers, descriptor.Name));
    }

    private static T Resolve<T>(Lazy<T> lazy, ConcurrentDictionary<string, Lazy<T>> map, string key)
    {
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed creation (bad settings, missing native library) must not be cached forever.
            map.TryRemove(new KeyValuePair<string, Lazy<T>>(key, lazy));
            throw;
        }
    }

    private PluginContext CreateContext(string sectionPath, IReadOnlyDictionary<string, string?>? overrides, string dataDirectory)
    {
        IConfiguration settings = _configuration.GetSection(sectionPath);
        if (overrides is { Count: > 0 })
        {
            settings = new ConfigurationBuilder()
                .AddConfiguration(settings)
                .AddInMemoryCollection(overrides)
                .Build();
        }

        Directory.CreateDirectory(dataDirectory);
        // Connection strings (Aspire's ConnectionStrings__<name>) stay the host's; plugins ask for one by name
        // through PluginContext.GetConnectionString.
        return new PluginContext(settings, _loggerFactory, dataDirectory, _configuration.GetSection("ConnectionStrings"),
            _httpClients is { } factory ? () => factory.CreateClient(HttpClientName) : null) { Lexical = _lexical.Value };
    }

    public async ValueTask DisposeAsync()
    {
        // Managed providers own nothing; their members are disposed once here.
        foreach (var lazy in _providers.Values.Where(l => l.IsValueCreated))
        {
            await lazy.Value.DisposeAsync();
        }

        foreach (var lazy in _backends.Values.Where(l => l.IsValueCreated))
        {
            await lazy.Value.DisposeAsync();
        }

        foreach (var lazy in _rerankers.Values.Where(l => l.IsValueCreated))
        {
            await lazy.Value.DisposeAsync();
        }
    }
}
