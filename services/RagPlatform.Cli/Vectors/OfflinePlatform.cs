using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Hosting;
using RagPlatform.Lexical;
using RagPlatform.Core.Plugins;
using RagPlatform.Core.Storage;
using RagPlatform.Sdk;
using RagPlatform.Storage.Sqlite;

namespace RagPlatform.Cli.Vectors;

/// <summary>
/// The platform's stores opened directly, without a server, for the maintenance commands (migrate, backup,
/// restore, import): the metadata store, the lexical index and the plugins, configured exactly as the services
/// are (<c>--data-dir</c> and <c>--Section:Key=value</c> settings). The embedded stores belong to one process at a
/// time, so the services using this data directory must be stopped while such a command runs.
/// </summary>
public sealed class OfflinePlatform : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly List<PluginHost> _extraPluginHosts = [];

    private OfflinePlatform(IHost host)
    {
        _host = host;
        Store = host.Services.GetRequiredService<IMetadataStore>();
        Lexical = host.Services.GetRequiredService<ILexicalIndex>();
        Plugins = host.Services.GetRequiredService<PluginHost>();
        Collections = host.Services.GetRequiredService<CollectionService>();
        Configuration = host.Services.GetRequiredService<IConfiguration>();
    }

    public IMetadataStore Store { get; }

    public ILexicalIndex Lexical { get; }

    /// <summary>The plugins as the services configure them (one backend per name).</summary>
    public PluginHost Plugins { get; }

    public CollectionService Collections { get; }

    public IConfiguration Configuration { get; }

    public static async Task<OfflinePlatform> OpenAsync(string dataDirectory, IReadOnlyList<string> configurationArguments, CancellationToken cancellationToken)
    {
        List<string> args =
        [
            "--Logging:LogLevel:Default=Warning",
            "--Logging:Console:LogToStandardErrorThreshold=Trace",
            "--RagPlatform:DataDirectory=" + Path.GetFullPath(dataDirectory),
        ];
        args.AddRange(configurationArguments);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [.. args], ContentRootPath = AppContext.BaseDirectory });
        builder.AddRagPlatformCore(RagHostRole.Offline);
        builder.AddRagSqliteMetadataStore();
        var host = builder.Build();
        try
        {
            await host.Services.GetRequiredService<IMetadataStore>().InitializeAsync(cancellationToken);
            return new OfflinePlatform(host);
        }
        catch
        {
            await DisposeHostAsync(host);
            throw;
        }
    }

    /// <summary>
    /// A backend chosen on the command line: the named plugin with the services' configuration for it, overlaid
    /// with <paramref name="selection"/>'s settings. It is a separate instance from <see cref="Plugins"/>' one, so
    /// use one or the other for a given store, never both.
    /// </summary>
    public Task<IVectorBackend> OpenBackendAsync(BackendSelection selection, CancellationToken cancellationToken)
    {
        var overrides = selection.Settings.ToDictionary(
            s => $"{RagPlatformOptions.SectionName}:VectorStore:Backends:{selection.Name}:{s.Key}", s => (string?)s.Value, StringComparer.OrdinalIgnoreCase);
        var configuration = new ConfigurationBuilder().AddConfiguration(Configuration).AddInMemoryCollection(overrides).Build();
        var host = new PluginHost(
            _host.Services.GetRequiredService<PluginCatalog>(),
            configuration,
            _host.Services.GetRequiredService<IOptions<RagPlatformOptions>>(),
            _host.Services.GetRequiredService<ILoggerFactory>());
        _extraPluginHosts.Add(host);
        return host.GetVectorBackendAsync(selection.Name, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _extraPluginHosts)
        {
            await host.DisposeAsync();
        }

        await DisposeHostAsync(_host);
    }

    private static async Task DisposeHostAsync(IHost host)
    {
        // The plugin host is a singleton of the container: disposing the container disposes the backends (flushing files).
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }
}

/// <summary>A vector backend named on the command line with its settings (<c>--from faiss --from-setting IndexFactory=Flat</c>).</summary>
public sealed record BackendSelection(string Name, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>Reads <c>Key=Value</c> settings; a setting without '=' is a usage error naming the option.</summary>
    public static BackendSelection Parse(string name, IEnumerable<string>? settings, string option)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new UsageException($"{option} must name a vector backend (embedded, faiss, pgvector, …).");
        }

        var parsed = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in settings ?? [])
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"{option}-setting takes Key=Value, not '{setting}'.");
            }

            parsed[setting[..equals].Trim()] = setting[(equals + 1)..];
        }

        return new BackendSelection(name.Trim(), parsed);
    }

    /// <summary>The backend's name and the names (never the values: they may be secrets) of its settings.</summary>
    public override string ToString() =>
        Settings.Count == 0 ? Name : $"{Name} ({string.Join(", ", Settings.Keys.Order(StringComparer.OrdinalIgnoreCase))})";
}
