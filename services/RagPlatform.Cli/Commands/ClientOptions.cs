using System.CommandLine;
using RagPlatform.Cli.Hosting;
using RagPlatform.Hosting;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// The options every client command shares: which server, where an in-process platform keeps its data, and
/// --json. Also accepts --Section:Key=value settings for the in-process platform.
/// </summary>
public sealed class ClientOptions
{
    public const string ServerVariable = "RAG_SERVER";
    public const string DefaultDataDirectory = "./data";

    private ClientOptions(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(DataDirectory);
        command.Options.Add(Json);
        command.TreatUnmatchedTokensAsErrors = false;
    }

    public Option<string> Server { get; } = new("--server")
    {
        Description = $"RagPlatform server URL (default: ${ServerVariable}, else {StandaloneHost.DefaultUrl}). Without it, when nothing answers, " +
            "the platform runs in-process for this command.",
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

    public static ClientOptions AddTo(Command command) => new(command);

    public bool IsJson(ParseResult result) => result.GetValue(Json);

    /// <param name="configuration">Settings found among positional arguments (which take unmatched tokens first).</param>
    public ConnectionSettings GetConnection(ParseResult result, IEnumerable<string>? configuration = null)
    {
        var server = result.GetValue(Server)!;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server must be an absolute http(s) URL, not '{server}'.");
        }

        // RAG_SERVER is as deliberate a choice as --server: falling back to an in-process platform
        // would hide that the configured server is down.
        var explicitly = result.GetResult(Server) is { Implicit: false } || DefaultServer() is not null;
        return new ConnectionSettings(
            uri, explicitly, result.GetValue(DataDirectory)!, [.. configuration ?? [], .. ConfigurationArguments.Collect(result)]);
    }

    public Task<PlatformSession> OpenAsync(ParseResult result, CancellationToken cancellationToken) =>
        PlatformSession.OpenAsync(GetConnection(result), cancellationToken);

    private static string? DefaultServer() =>
        Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } value ? value.Trim() : null;
}
