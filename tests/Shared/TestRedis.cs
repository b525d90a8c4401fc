using System.Diagnostics;
using System.Reflection;
using RagPlatform.Caching.Redis;
using StackExchange.Redis;

namespace RagPlatform.Tests.Shared;

/// <summary>
/// A real redis-server for a test class (scripts/servers/redis.sh: loopback, a free port, stopped by its PID), and
/// connections made as AddRedisRagCache makes them (Aspire's parsing, the cache's short timeouts).
/// </summary>
public sealed class TestRedis : IAsyncDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "rag-redis-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<ConnectionMultiplexer> _connections = [];

    private TestRedis()
    {
    }

    /// <summary>Aspire's form: <c>127.0.0.1:port</c>.</summary>
    public string ConnectionString { get; private set; } = "";

    public static async Task<TestRedis> StartAsync()
    {
        var redis = new TestRedis();
        redis.ConnectionString = (await redis.ScriptAsync("start")).Split('=', 2)[1].Trim();
        return redis;
    }

    public Task StopAsync() => ScriptAsync("stop");

    public Task StartAgainAsync() => ScriptAsync("start");

    /// <summary>A connection to any Redis (or to none: it connects in the background); the caller disposes it.</summary>
    public static ConnectionMultiplexer ConnectTo(string connectionString, RedisCacheOptions options)
    {
        var configuration = ConfigurationOptions.Parse(connectionString);
        RedisRagCache.Configure(configuration, options);
        return ConnectionMultiplexer.Connect(configuration);
    }

    /// <summary>A connection to this server that the test does not dispose: it goes with the server.</summary>
    public IConnectionMultiplexer Connect(RedisCacheOptions options)
    {
        var connection = ConnectTo(ConnectionString, options);
        lock (_connections)
        {
            _connections.Add(connection);
        }

        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        await ScriptAsync("stop");
        Directory.Delete(_state, recursive: true);
    }

    private async Task<string> ScriptAsync(string command)
    {
        var root = typeof(TestRedis).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
        var start = new ProcessStartInfo(Path.Combine(root, "scripts/servers/redis.sh"))
        {
            ArgumentList = { command, _state },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis.sh {command}: {await error}");
        }

        return await output;
    }
}
