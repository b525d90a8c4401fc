using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Caching.Redis;
using RagPlatform.Core.Caching;

namespace RagPlatform.Distributed.Tests;

/// <summary>The Redis query cache against a real redis-server (scripts/servers/redis.sh), stopped and started under it.</summary>
public sealed class RedisRagCacheTests : IAsyncLifetime
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "rag-redis-" + Guid.NewGuid().ToString("N")[..12]);
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = (await RedisScriptAsync("start")).Split('=', 2)[1].Trim();

    public async Task DisposeAsync()
    {
        await RedisScriptAsync("stop");
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Values_round_trip_through_redis_and_are_shared_between_instances()
    {
        await using var writer = await ConnectedAsync(memoryTier: false);
        await using var reader = await ConnectedAsync(memoryTier: false);

        await writer.SetAsync("k1", [1, 2, 3], TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(new byte[] { 1, 2, 3 }, await reader.GetAsync("k1", CancellationToken.None));
        Assert.Null(await reader.GetAsync("absent", CancellationToken.None));
    }

    [Fact]
    public async Task Redis_down_is_a_quick_miss_and_caching_resumes_when_it_returns()
    {
        await using var cache = await ConnectedAsync(memoryTier: false);
        await cache.SetAsync("before", [7], TimeSpan.FromMinutes(1), CancellationToken.None);

        await RedisScriptAsync("stop");
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            Assert.Null(await cache.GetAsync("before", CancellationToken.None));
            await cache.SetAsync($"during-{i}", [1], TimeSpan.FromMinutes(1), CancellationToken.None);
        }

        // Forty operations against a dead server: bounded by the short timeouts and the skip window, not by a
        // connect timeout each (a loose bound, not a performance assertion).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"40 operations with Redis down took {clock.Elapsed}");

        await RedisScriptAsync("start");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await cache.SetAsync("after", [9], TimeSpan.FromMinutes(1), CancellationToken.None);
            if (await cache.GetAsync("after", CancellationToken.None) is { } value)
            {
                Assert.Equal(new byte[] { 9 }, value);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the cache never used Redis again after it returned");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task The_memory_tier_answers_repeats_without_changing_what_redis_holds()
    {
        await using var cache = await ConnectedAsync(memoryTier: true);
        await using var other = await ConnectedAsync(memoryTier: false);
        await cache.SetAsync("both", [4, 2], TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(new byte[] { 4, 2 }, await other.GetAsync("both", CancellationToken.None));
        await RedisScriptAsync("stop");
        Assert.Equal(new byte[] { 4, 2 }, await cache.GetAsync("both", CancellationToken.None));
    }

    [Fact]
    public void Aspire_connection_strings_parse_with_the_cache_safety_settings_and_errors_do_not_echo_the_password()
    {
        var options = new RedisCacheOptions();
        var parsed = RedisRagCache.ParseConnectionString("cache.internal:6380,password=s3cret-pw,ssl=true", options);

        Assert.Equal("cache.internal:6380", RedisRagCache.Describe(Assert.Single(parsed.EndPoints)));
        Assert.True(parsed.Ssl);
        Assert.Equal("s3cret-pw", parsed.Password);
        Assert.False(parsed.AbortOnConnectFail);
        Assert.Equal(options.OperationTimeoutMilliseconds, parsed.SyncTimeout);

        var error = Assert.Throws<InvalidOperationException>(() => RedisRagCache.ParseConnectionString("password=s3cret-pw", options));
        Assert.DoesNotContain("s3cret-pw", error.Message, StringComparison.Ordinal);
    }

    private async Task<RedisRagCache> ConnectedAsync(bool memoryTier)
    {
        var options = new RedisCacheOptions { BreakSeconds = 1, MemoryTierSeconds = memoryTier ? 30 : 0 };
        var cache = new RedisRagCache(_connectionString, options, memoryTier ? new MemoryRagCache(new CacheOptions()) : null,
            NullLogger<RedisRagCache>.Instance);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!cache.IsAvailable)
        {
            Assert.True(DateTime.UtcNow < deadline, "never connected to Redis");
            await Task.Delay(50);
        }

        return cache;
    }

    private async Task<string> RedisScriptAsync(string command)
    {
        var start = new ProcessStartInfo(Path.Combine(DistributedStack.RepoRoot, "scripts/servers/redis.sh"))
        {
            ArgumentList = { command, _state },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"redis.sh {command}: {error}");
        return output;
    }
}
