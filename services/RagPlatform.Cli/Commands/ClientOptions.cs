using System.CommandLine;
using RagPlatform.Cli.Hosting;
using RagPlatform.Hosting;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// The options every client command shares: which server, where an in-process platform keeps its data, and
/// --json; and the --Section:Key=value settings an in-process platform gets.
/// </summary>
public sealed class ClientOptions
{
    public const string ServerVariable = "RAG_SERVER";
    public const string DefaultDataDirectory = "./data";

    private readonly IReadOnlyList<string> _settings;

    private ClientOptions(Command command, IReadOnlyList<string> settings)
    {
        _settings = settings;
        command.Options.Add(Server);
        command.Options.Add(DataDirectory);
        command.Options.Add(Json);
    }

    public Option<string> Server { get; } = new("--server")
    {
        Description = $"RagPlatform server URL (default: ${ServerVariable}, else {StandaloneHost.DefaultUrl}). When neither is given and nothing " +
            "answers, the platform runs in-process for this command.",
        HelpName = "URL",
        DefaultValueFactory = _ => DefaultServer() ?? StandaloneHost.DefaultUrl,
    };

    public Option<string> DataDirectory { get; } = new("--data-dir")
    {
        Description = "Data directory of the in-process platform (used only when no server answers).",
        HelpName = "DIR",
        DefaultValueFactory = _ => DefaultDataDirectory,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print machine-readable JSON only (no tables, no progress).",
    };

    public static ClientOptions AddTo(Command command, IReadOnlyList<string> settings) => new(command, settings);

    public bool IsJson(ParseResult result) => result.GetValue(Json);

    public ConnectionSettings GetConnection(ParseResult result)
    {
        var server = result.GetValue(Server)!;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server must be an absolute http(s) URL, not '{server}'.");
        }

        // RAG_SERVER is as deliberate a choice as --server: falling back to an in-process platform
        // would hide that the configured server is down.
        var explicitly = result.GetResult(Server) is { Implicit: false } || DefaultServer() is not null;
        return new ConnectionSettings(uri, explicitly, result.GetValue(DataDirectory)!, _settings);
    }

    public Task<PlatformSession> OpenAsync(ParseResult result, CancellationToken cancellationToken) =>
        PlatformSession.OpenAsync(GetConnection(result), cancellationToken);

    private static string? DefaultServer() =>
        Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } value ? value.Trim() : null;
}
