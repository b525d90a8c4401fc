using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Sdk;

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
    private readonly ConcurrentDictionary<string, Lazy<IEmbeddingProvider>> _providers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<IVectorBackend>> _backends = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<IReranker>> _rerankers = new(StringComparer.OrdinalIgnoreCase);

    public PluginHost(PluginCatalog catalog, IConfiguration configuration, IOptions<RagPlatformOptions> options, ILoggerFactory loggerFactory)
    {
        _catalog = catalog;
        _configuration = configuration;
        _loggerFactory = loggerFactory;
        _dataDirectory = options.Value.ResolveDataDirectory();
    }

    public PluginCatalog Catalog => _catalog;

    /// <summary>The shared provider for a selection; per-collection settings are layered over configuration.</summary>
    public IEmbeddingProvider GetEmbeddingProvider(EmbeddingSelection selection)
    {
        var descriptor = _catalog.GetEmbeddingProvider(selection.Provider);
        var key = descriptor.Name.ToLowerInvariant() + "|" + string.Join(
            "|", selection.Settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Key + "=" + s.Value));
        var lazy = _providers.GetOrAdd(key, _ => new Lazy<IEmbeddingProvider>(() =>
        {
            var section = $"{RagPlatformOptions.SectionName}:Embedding:Providers:{descriptor.Name}";
            var context = CreateContext(section, selection.Settings, Path.Combine(_dataDirectory, "models", descriptor.Name));
            return PluginCatalog.Instantiate<IEmbeddingProviderPlugin>(descriptor.EntryPoint).Create(context);
        }));
        return Resolve(lazy, _providers, key);
    }

    /// <summary>The shared backend of that name.</summary>
    public IVectorBackend GetVectorBackend(string name)
    {
        var descriptor = _catalog.GetVectorBackend(name);
        var lazy = _backends.GetOrAdd(descriptor.Name, _ => new Lazy<IVectorBackend>(() =>
        {
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
        return new PluginContext(settings, _loggerFactory, dataDirectory, _configuration.GetSection("ConnectionStrings"));
    }

    public async ValueTask DisposeAsync()
    {
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
