using System.Reflection;
using Microsoft.Extensions.Logging;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Core.Plugins;

/// <summary>A plugin entry point found on disk, not yet instantiated.</summary>
public sealed record PluginDescriptor(string Name, string Kind, Type EntryPoint, string AssemblyPath);

/// <summary>
/// Finds plugins: every sub-folder of the plugin directory holding <c>&lt;folder&gt;.dll</c>, plus any assembly
/// listed explicitly. Each assembly is loaded into its own <see cref="PluginLoadContext"/> and asked, through
/// its <see cref="RagPluginAttribute"/>s only, which providers, backends and rerankers it offers.
/// </summary>
public sealed class PluginCatalog
{
    public const string EmbeddingProviderKind = "embedding-provider";
    public const string VectorBackendKind = "vector-backend";
    public const string RerankerKind = "reranker";
    public const string DocumentParserKind = "document-parser";

    private readonly Dictionary<string, PluginDescriptor> _providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, PluginDescriptor> _backends = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, PluginDescriptor> _rerankers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, PluginDescriptor> _parsers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, PluginDescriptor> _parsersByContentType = new(StringComparer.OrdinalIgnoreCase);

    public PluginCatalog(string directory, IEnumerable<string> extraAssemblies, ILogger<PluginCatalog> logger)
    {
        Directory = directory;
        var assemblies = new List<string>();
        if (System.IO.Directory.Exists(directory))
        {
            foreach (var folder in System.IO.Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
            {
                var main = Path.Combine(folder, Path.GetFileName(folder) + ".dll");
                if (File.Exists(main))
                {
                    assemblies.Add(main);
                }
            }
        }

        assemblies.AddRange(extraAssemblies.Select(Path.GetFullPath));

        foreach (var path in assemblies.Distinct(StringComparer.Ordinal))
        {
            Register(path, logger);
        }
    }

    public string Directory { get; }

    public IReadOnlyCollection<string> EmbeddingProviders => _providers.Keys;

    public IReadOnlyCollection<string> VectorBackends => _backends.Keys;

    public IReadOnlyCollection<string> Rerankers => _rerankers.Keys;

    public IReadOnlyCollection<string> DocumentParsers => _parsers.Keys;

    /// <summary>The content types some parser plugin reads.</summary>
    public IReadOnlyCollection<string> ParsedContentTypes => _parsersByContentType.Keys;

    /// <summary>The parser plugin that reads <paramref name="contentType"/>, or null when none does.</summary>
    public PluginDescriptor? FindDocumentParser(string contentType) =>
        _parsersByContentType.GetValueOrDefault(contentType);

    public PluginDescriptor GetEmbeddingProvider(string name) =>
        _providers.TryGetValue(name, out var descriptor)
            ? descriptor
            : throw new PluginNotFoundException(EmbeddingProviderKind, name, Directory, _providers.Keys);

    public PluginDescriptor GetVectorBackend(string name) =>
        _backends.TryGetValue(name, out var descriptor)
            ? descriptor
            : throw new PluginNotFoundException(VectorBackendKind, name, Directory, _backends.Keys);

    public PluginDescriptor GetReranker(string name) =>
        _rerankers.TryGetValue(name, out var descriptor)
            ? descriptor
            : throw new PluginNotFoundException(RerankerKind, name, Directory, _rerankers.Keys);

    public bool HasEmbeddingProvider(string name) => _providers.ContainsKey(name);

    public bool HasVectorBackend(string name) => _backends.ContainsKey(name);

    public bool HasReranker(string name) => _rerankers.ContainsKey(name);

    /// <summary>The parser plugin of that name, or null when none is.</summary>
    public PluginDescriptor? FindDocumentParserByName(string name) => _parsers.GetValueOrDefault(name);

    private void Register(string assemblyPath, ILogger logger)
    {
        if (!File.Exists(assemblyPath))
        {
            throw new PluginLoadException($"Plugin assembly '{assemblyPath}' does not exist.");
        }

        Assembly assembly;
        try
        {
            assembly = new PluginLoadContext(assemblyPath).LoadFromAssemblyPath(assemblyPath);
        }
        catch (Exception ex) when (ex is BadImageFormatException or FileLoadException)
        {
            throw new PluginLoadException($"Plugin assembly '{assemblyPath}' could not be loaded: {ex.Message}", ex);
        }

        var entries = assembly.GetCustomAttributes<RagPluginAttribute>().ToList();
        if (entries.Count == 0)
        {
            logger.LogWarning("{Assembly} has no [assembly: RagPlugin(...)] entry point; ignored", assemblyPath);
            return;
        }

        foreach (var entry in entries)
        {
            var type = entry.EntryPoint;
            if (typeof(IEmbeddingProviderPlugin).IsAssignableFrom(type))
            {
                var name = Instantiate<IEmbeddingProviderPlugin>(type).Name;
                Add(_providers, new PluginDescriptor(name, EmbeddingProviderKind, type, assemblyPath));
            }
            else if (typeof(IVectorBackendPlugin).IsAssignableFrom(type))
            {
                var name = Instantiate<IVectorBackendPlugin>(type).Name;
                Add(_backends, new PluginDescriptor(name, VectorBackendKind, type, assemblyPath));
            }
            else if (typeof(IRerankerPlugin).IsAssignableFrom(type))
            {
                var name = Instantiate<IRerankerPlugin>(type).Name;
                Add(_rerankers, new PluginDescriptor(name, RerankerKind, type, assemblyPath));
            }
            else if (typeof(IDocumentParserPlugin).IsAssignableFrom(type))
            {
                var plugin = Instantiate<IDocumentParserPlugin>(type);
                var descriptor = new PluginDescriptor(plugin.Name, DocumentParserKind, type, assemblyPath);
                Add(_parsers, descriptor);
                foreach (var contentType in plugin.ContentTypes)
                {
                    if (_parsersByContentType.TryGetValue(contentType, out var claimed))
                    {
                        throw new PluginLoadException(
                            $"Two document parsers read {contentType}: '{claimed.Name}' ({claimed.AssemblyPath}) and '{plugin.Name}' ({assemblyPath}).");
                    }

                    _parsersByContentType.Add(contentType, descriptor);
                }
            }
            else
            {
                throw new PluginLoadException(
                    $"{type.FullName} in '{assemblyPath}' implements none of IEmbeddingProviderPlugin, IVectorBackendPlugin, IRerankerPlugin, IDocumentParserPlugin.");
            }

            logger.LogInformation("Plugin {Type} found in {Assembly}", type.FullName, assemblyPath);
        }
    }

    private static void Add(Dictionary<string, PluginDescriptor> map, PluginDescriptor descriptor)
    {
        if (map.TryGetValue(descriptor.Name, out var existing))
        {
            throw new PluginLoadException(
                $"Two plugins are named '{descriptor.Name}': '{existing.AssemblyPath}' and '{descriptor.AssemblyPath}'.");
        }

        map.Add(descriptor.Name, descriptor);
    }

    internal static T Instantiate<T>(Type type)
    {
        try
        {
            return (T)Activator.CreateInstance(type)!;
        }
        catch (Exception ex) when (ex is MissingMethodException or TargetInvocationException or MemberAccessException)
        {
            throw new PluginLoadException($"Plugin entry point {type.FullName} could not be created: {ex.Message}", ex);
        }
    }
}

public sealed class PluginLoadException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

public sealed class PluginNotFoundException(string kind, string name, string directory, IEnumerable<string> available)
    : InvalidOperationException(
        $"No {kind} plugin named '{name}' in '{directory}'. Available: {(available.Any() ? string.Join(", ", available.Order()) : "none")}.")
{
    public string Kind { get; } = kind;

    public string Name { get; } = name;
}
