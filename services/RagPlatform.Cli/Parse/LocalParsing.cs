using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagPlatform.Core.Hosting;
using RagPlatform.Ingestion;
using RagPlatform.Ingestion.Files;
using RagPlatform.Storage.Sqlite;

namespace RagPlatform.Cli.Parse;

/// <summary>
/// The ingestion service's document parsing (sniffing, the parser plugins shipped with the CLI, the configured limits)
/// in this process, without a server or data: for <c>rag parse</c> and <c>rag bench parse</c>.
/// </summary>
public sealed class LocalParsing : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _dataDirectory;

    private LocalParsing(IHost host, string dataDirectory)
    {
        _host = host;
        _dataDirectory = dataDirectory;
        Parsing = host.Services.GetRequiredService<DocumentParsing>();
    }

    public DocumentParsing Parsing { get; }

    public static LocalParsing Create(IReadOnlyList<string> configurationArguments)
    {
        var directory = Path.Combine(Path.GetTempPath(), "rag-parse-" + Guid.NewGuid().ToString("N")[..12]);
        List<string> args =
        [
            "--Logging:LogLevel:Default=Warning",
            "--Logging:Console:LogToStandardErrorThreshold=Trace",
            "--RagPlatform:DataDirectory=" + directory,
        ];
        args.AddRange(configurationArguments);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [.. args], ContentRootPath = AppContext.BaseDirectory });
        builder.AddRagPlatformCore(RagHostRole.Offline);
        builder.AddRagSqliteMetadataStore();
        builder.AddIngestion();
        return new LocalParsing(builder.Build(), directory);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }

        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
