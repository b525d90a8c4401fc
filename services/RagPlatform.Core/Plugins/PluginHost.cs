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
/// provider per distinct (name, settings) — so a model is loaded once — and one backend per name. Creation is
/// asynchronous (a model may be downloaded): concurrent first uses share one creation, no thread waits on it, and a
/// failed creation is forgotten so the next use tries again.
/// </summary>
public sealed class PluginHost : IAsyncDisposable
{
    private readonly PluginCatalog _catalog;
    private readonly IConfiguration _configuration;
    private readonly ILoggerFactory _loggerFactory;
    private readonly string _dataDirectory;
    private const string ManagedPrefix = "managed:";
    private readonly EmbeddingSpendLedger? _spend;
    private readonly ConcurrentDictionary<string, Lazy<Task<IEmbeddingProvider>>> _providers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _providerNames = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<IVectorBackend>>> _backends = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<IReranker>>> _rerankers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<IDocumentParser>>> _parsers = new(StringComparer.OrdinalIgnoreCase);

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
            var tokenizer = lexical.CreateTokenizer();
            return new LexicalAnalysis(tokenizer.AnalyzerId, tokenizer.Tokenize, lexical.K1, lexical.B, lexical.K3);
        });
        _loggerFactory = loggerFactory;
        _dataDirectory = options.Value.ResolveDataDirectory();
        _spend = spend;
    }

    public PluginCatalog Catalog => _catalog;

    /// <summary>The provider plugin instances created so far, by configured name (for usage reports).</summary>
    public IReadOnlyList<(string Name, IEmbeddingProvider Provider)> CreatedEmbeddingProviders =>
        _providerNames.Where(p => _providers.TryGetValue(p.Key, out var lazy) && Created(lazy) is not null && !p.Key.StartsWith(ManagedPrefix, StringComparison.Ordinal))
            .Select(p => (Name: p.Value, Provider: Created(_providers[p.Key])!))
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
    public Task<IEmbeddingProvider> GetEmbeddingProviderAsync(EmbeddingSelection selection, CancellationToken cancellationToken)
    {
        var definition = EmbeddingProviderDefinition.Read(_configuration, selection.Provider);
        if (!definition.NeedsHostHandling)
        {
            return GetPluginProviderAsync(selection.Provider, definition, selection.Settings, cancellationToken);
        }

        var key = ManagedPrefix + SettingsKey(selection.Provider, selection.Settings);
        var lazy = _providers.GetOrAdd(key, _ => new Lazy<Task<IEmbeddingProvider>>(async () => await ComposeAsync(selection, definition)));
        return ResolveAsync(lazy, _providers, key, cancellationToken);
    }

    private Task<IEmbeddingProvider> GetPluginProviderAsync(
        string name, EmbeddingProviderDefinition definition, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var registered = _registeredProviders.GetValueOrDefault(definition.Plugin ?? name);
        var descriptor = registered is null ? _catalog.GetEmbeddingProvider(definition.Plugin ?? name) : null;
        // A name served by its own plugin keeps the plugin's spelling; an alias keeps its own.
        var configuredName = definition.Plugin is null ? registered?.Name ?? descriptor!.Name : name;
        var key = SettingsKey(configuredName, settings);
        _providerNames.TryAdd(key, configuredName);
        var lazy = _providers.GetOrAdd(key, _ => new Lazy<Task<IEmbeddingProvider>>(async () =>
        {
            var context = CreateContext(EmbeddingProviderDefinition.SectionPath(configuredName), settings, Path.Combine(_dataDirectory, "models", configuredName));
            return await (registered ?? PluginCatalog.Instantiate<IEmbeddingProviderPlugin>(descriptor!.EntryPoint)).CreateAsync(context, CancellationToken.None);
        }));
        return ResolveAsync(lazy, _providers, key, cancellationToken);
    }

    /// <summary>
    /// Builds the chains of a configured provider and refuses any member of another vector space: a fallback or a
    /// route may change who embeds, never what the vectors mean.
    /// </summary>
    private async Task<ManagedEmbeddingProvider> ComposeAsync(EmbeddingSelection selection, EmbeddingProviderDefinition definition)
    {
        var name = selection.Provider;
        var primary = new ChainMember(name, await GetPluginProviderAsync(name, definition, selection.Settings, CancellationToken.None), definition.PricePer1KTokens);

        async Task<List<ChainMember>> ChainFromAsync(string start)
        {
            var chain = new List<ChainMember>();
            var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            // Depth-first as the fallbacks are listed: a member, then its own fallbacks, before the next sibling.
            var stack = new Stack<string>([start]);
            while (stack.TryPop(out var member))
            {
                if (!visited.Add(member))
                {
                    continue;
                }

                var memberDefinition = EmbeddingProviderDefinition.Read(_configuration, member);
                chain.Add(string.Equals(member, name, StringComparison.OrdinalIgnoreCase)
                    ? primary
                    : new ChainMember(member, await GetPluginProviderAsync(member, memberDefinition, selection.Settings, CancellationToken.None), memberDefinition.PricePer1KTokens));
                foreach (var next in Enumerable.Reverse(memberDefinition.Fallback))
                {
                    stack.Push(next);
                }
            }

            return chain;
        }

        var documents = await ChainFromAsync(definition.Routes.Document ?? name);
        var queries = await ChainFromAsync(definition.Routes.Query ?? name);
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

    /// <summary>
    /// The problems with the settings of every plugin that configuration names or chooses (each section under
    /// <c>Embedding:Providers</c>, <c>VectorStore:Backends</c>, <c>Query:Rerankers</c> and <c>Ingestion:Parsers</c>,
    /// and the default provider, backend and reranker), each naming its key. Nothing is created: a plugin checks its
    /// own options (<see cref="IVectorBackendPlugin.ValidateSettings"/>). Names no plugin here answers to are left
    /// to the first use, which says what is available.
    /// </summary>
    public IReadOnlyList<string> ValidateConfiguredSettings(RagPlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        IEnumerable<string> Configured(string section, params string?[] chosen) =>
            _configuration.GetSection(section).GetChildren().Select(c => c.Key)
                .Concat(chosen.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n!))
                .Distinct(StringComparer.OrdinalIgnoreCase);

        foreach (var name in Configured(EmbeddingProviderDefinition.ProvidersSection, options.Embedding.Provider))
        {
            var plugin = EmbeddingProviderDefinition.Read(_configuration, name).Plugin ?? name;
            if (_registeredProviders.GetValueOrDefault(plugin) is { } registered)
            {
                problems.AddRange(registered.ValidateSettings(_configuration.GetSection(EmbeddingProviderDefinition.SectionPath(name))));
            }
            else if (_catalog.HasEmbeddingProvider(plugin))
            {
                problems.AddRange(PluginCatalog.Instantiate<IEmbeddingProviderPlugin>(_catalog.GetEmbeddingProvider(plugin).EntryPoint)
                    .ValidateSettings(_configuration.GetSection(EmbeddingProviderDefinition.SectionPath(name))));
            }
        }

        var backends = $"{RagPlatformOptions.SectionName}:VectorStore:Backends";
        foreach (var name in Configured(backends, options.VectorStore.Backend).Where(_catalog.HasVectorBackend))
        {
            problems.AddRange(PluginCatalog.Instantiate<IVectorBackendPlugin>(_catalog.GetVectorBackend(name).EntryPoint)
                .ValidateSettings(_configuration.GetSection($"{backends}:{name}")));
        }

        var rerankers = $"{RagPlatformOptions.SectionName}:Query:Rerankers";
        foreach (var name in Configured(rerankers, options.Query.Reranker).Where(_catalog.HasReranker))
        {
            problems.AddRange(PluginCatalog.Instantiate<IRerankerPlugin>(_catalog.GetReranker(name).EntryPoint)
                .ValidateSettings(_configuration.GetSection($"{rerankers}:{name}")));
        }

        var parsers = $"{RagPlatformOptions.SectionName}:Ingestion:Parsers";
        foreach (var name in Configured(parsers))
        {
            if (_catalog.FindDocumentParserByName(name) is { } descriptor)
            {
                problems.AddRange(PluginCatalog.Instantiate<IDocumentParserPlugin>(descriptor.EntryPoint)
                    .ValidateSettings(_configuration.GetSection($"{parsers}:{name}")));
            }
        }

        return problems;
    }

    private static string SettingsKey(string name, IReadOnlyDictionary<string, string?> settings) =>
        name.ToLowerInvariant() + "|" + string.Join("|", settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Key + "=" + s.Value));

    /// <summary>The shared backend of that name (the index owner's, when this process names one).</summary>
    public Task<IVectorBackend> GetVectorBackendAsync(string name, CancellationToken cancellationToken)
    {
        var descriptor = _catalog.GetVectorBackend(name);
        var lazy = _backends.GetOrAdd(descriptor.Name, _ => new Lazy<Task<IVectorBackend>>(async () =>
        {
            if (_indexOwner is not null)
            {
                return new RemoteVectorBackend(descriptor.Name, _indexOwner);
            }

            var section = $"{RagPlatformOptions.SectionName}:VectorStore:Backends:{descriptor.Name}";
            var context = CreateContext(section, null, Path.Combine(_dataDirectory, "vectors", descriptor.Name));
            return await PluginCatalog.Instantiate<IVectorBackendPlugin>(descriptor.EntryPoint).CreateAsync(context, CancellationToken.None);
        }));
        return ResolveAsync(lazy, _backends, descriptor.Name, cancellationToken);
    }

    /// <summary>The shared reranker of that name.</summary>
    public Task<IReranker> GetRerankerAsync(string name, CancellationToken cancellationToken)
    {
        var descriptor = _catalog.GetReranker(name);
        var lazy = _rerankers.GetOrAdd(descriptor.Name, _ => new Lazy<Task<IReranker>>(async () =>
        {
            var section = $"{RagPlatformOptions.SectionName}:Query:Rerankers:{descriptor.Name}";
            var context = CreateContext(section, null, Path.Combine(_dataDirectory, "models", descriptor.Name));
            return await PluginCatalog.Instantiate<IRerankerPlugin>(descriptor.EntryPoint).CreateAsync(context, CancellationToken.None);
        }));
        return ResolveAsync(lazy, _rerankers, descriptor.Name, cancellationToken);
    }

    /// <summary>The shared parser of the plugin that reads <paramref name="contentType"/>, with its name; null when no plugin does.</summary>
    public async Task<(string Name, IDocumentParser Parser)?> GetDocumentParserAsync(string contentType, CancellationToken cancellationToken)
    {
        if (_catalog.FindDocumentParser(contentType) is not { } descriptor)
        {
            return null;
        }

        var lazy = _parsers.GetOrAdd(descriptor.Name, _ => new Lazy<Task<IDocumentParser>>(async () =>
        {
            var section = $"{RagPlatformOptions.SectionName}:Ingestion:Parsers:{descriptor.Name}";
            var context = CreateContext(section, null, Path.Combine(_dataDirectory, "parsers", descriptor.Name));
            return await PluginCatalog.Instantiate<IDocumentParserPlugin>(descriptor.EntryPoint).CreateAsync(context, CancellationToken.None);
        }));
        return (descriptor.Name, await ResolveAsync(lazy, _parsers, descriptor.Name, cancellationToken));
    }

    /// <summary>
    /// The instance <paramref name="lazy"/> creates, shared by every caller: the creation itself runs without the
    /// caller's token (another caller may still want it), the caller stops waiting when its token is cancelled.
    /// </summary>
    private static async Task<T> ResolveAsync<T>(Lazy<Task<T>> lazy, ConcurrentDictionary<string, Lazy<Task<T>>> map, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            // A failed creation (bad settings, missing native library, a download refused) must not be cached forever.
            map.TryRemove(new KeyValuePair<string, Lazy<Task<T>>>(key, lazy));
            throw;
        }
    }

    private static T? Created<T>(Lazy<Task<T>> lazy)
        where T : class =>
        lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully ? lazy.Value.Result : null;

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
        foreach (var provider in _providers.Values.Select(Created).OfType<IEmbeddingProvider>())
        {
            await provider.DisposeAsync();
        }

        foreach (var backend in _backends.Values.Select(Created).OfType<IVectorBackend>())
        {
            await backend.DisposeAsync();
        }

        foreach (var reranker in _rerankers.Values.Select(Created).OfType<IReranker>())
        {
            await reranker.DisposeAsync();
        }
    }
}
