using System.Reflection;
using RagPlatform.Core.Security;
using RagPlatform.EndToEnd.Tests;

namespace RagPlatform.WebConsole.Tests;

/// <summary>
/// The standalone host as an operator runs it beyond a laptop: its own process on a free loopback port, a temporary
/// data directory, and one admin API key required (configured by its hash, as <c>rag keys create</c> prints it).
/// Stopped by its PID, its data deleted.
/// </summary>
public sealed class ConsoleHost : IAsyncLifetime
{
    private PlatformProcess? _platform;

    public string ApiKey { get; } = ApiKeys.Create().Key;

    public Uri Address => Platform.Address;

    public PlatformProcess Platform => _platform ?? throw new InvalidOperationException("not started");

    public static string RepoRoot =>
        typeof(ConsoleHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public async Task InitializeAsync()
    {
        _platform = await PlatformProcess.StartAsync(environment: new Dictionary<string, string>
        {
            ["RagPlatform__Security__Keys__0__Id"] = ApiKeys.IdOf(ApiKey)!,
            ["RagPlatform__Security__Keys__0__Client"] = "console-test",
            ["RagPlatform__Security__Keys__0__Hash"] = ApiKeys.Hash(ApiKey),
            ["RagPlatform__Security__Keys__0__Scopes__0"] = RagScopes.Admin,
        });
    }

    public async Task DisposeAsync()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
            _platform.DeleteData();
        }
    }
}
