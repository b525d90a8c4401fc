using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Caching.Redis;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Hosting;
using RagPlatform.Tests.Shared;
using StackExchange.Redis;

namespace RagPlatform.Caching.Redis.Tests;

/// <summary>The Redis query cache against a real redis-server, stopped and started under it.</summary>
public sealed class RedisRagCacheTests : IAsyncLifetime
{
    private TestRedis _redis = null!;

    public async Task InitializeAsync() => _redis = await TestRedis.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task Values_round_trip_through_redis_and_are_shared_between_instances()
    {
        using var writer = await ConnectedAsync(memoryTier: false);
        using var reader = await ConnectedAsync(memoryTier: false);

        await writer.SetAsync("k1", [1, 2, 3], TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(new byte[] { 1, 2, 3 }, await reader.GetAsync("k1", CancellationToken.None));
        Assert.Null(await reader.GetAsync("absent", CancellationToken.None));
    }

    [Fact]
    public async Task Redis_down_is_a_quick_miss_and_caching_resumes_when_it_returns()
    {
        using var cache = await ConnectedAsync(memoryTier: false);
        await cache.SetAsync("before", [7], TimeSpan.FromMinutes(1), CancellationToken.None);

        await _redis.StopAsync();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            Assert.Null(await cache.GetAsync("before", CancellationToken.None));
            await cache.SetAsync($"during-{i}", [1], TimeSpan.FromMinutes(1), CancellationToken.None);
        }

        // Forty operations against a dead server: bounded by the short timeouts and the skip window, not by a
        // connect timeout each (a loose bound, not a performance assertion).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"40 operations with Redis down took {clock.Elapsed}");

        await _redis.StartAgainAsync();
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
        using var cache = await ConnectedAsync(memoryTier: true);
        using var other = await ConnectedAsync(memoryTier: false);
        await cache.SetAsync("both", [4, 2], TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(new byte[] { 4, 2 }, await other.GetAsync("both", CancellationToken.None));
        await _redis.StopAsync();
        Assert.Equal(new byte[] { 4, 2 }, await cache.GetAsync("both", CancellationToken.None));
    }

    [Fact]
    public async Task A_service_with_the_redis_cache_reports_degraded_not_unhealthy_while_redis_is_down_and_healthy_again_after()
    {
        await using var service = await StartServiceAsync(_redis.ConnectionString);
        using var http = new HttpClient { BaseAddress = service.Url };
        Assert.IsType<RedisRagCache>(service.App.Services.GetRequiredService<IRagCache>());
        Assert.Equal("Healthy", await WaitForHealthAsync(http, "Healthy"));

        await _redis.StopAsync();
        // Degraded answers 200: without a cache the service answers everything, so it stays in rotation.
        Assert.Equal("Degraded", await WaitForHealthAsync(http, "Degraded"));

        await _redis.StartAgainAsync();
        Assert.Equal("Healthy", await WaitForHealthAsync(http, "Healthy"));
    }

    [Fact]
    public void Without_ConnectionStrings_cache_neither_the_redis_cache_nor_its_client_is_registered()
    {
        var builder = Host.CreateApplicationBuilder();
        Assert.Equal(CachePlacement.Memory, builder.ResolveRagTopology(RagHostRole.QueryApi).Cache);

        builder.AddRedisRagCache();

        Assert.DoesNotContain(builder.Services, d => d.ServiceType == typeof(IRagCache));
        using var host = builder.Build();
        Assert.Null(host.Services.GetService<IConnectionMultiplexer>());
    }

    private async Task<RedisRagCache> ConnectedAsync(bool memoryTier)
    {
        var options = new RedisCacheOptions { BreakSeconds = 1, MemoryTierSeconds = memoryTier ? 30 : 0 };
        var cache = new RedisRagCache(_redis.Connect(options), options, memoryTier ? new MemoryRagCache(new CacheOptions()) : null,
            NullLogger<RedisRagCache>.Instance);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!cache.IsAvailable)
        {
            Assert.True(DateTime.UtcNow < deadline, "never connected to Redis");
            await Task.Delay(50);
        }

        return cache;
    }

    private static async Task<string> WaitForHealthAsync(HttpClient http, string expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await http.GetAsync("/health");
            var status = await response.Content.ReadAsStringAsync();
            if (status == expected)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/health still {status} ({(int)response.StatusCode}), not {expected}");
            await Task.Delay(250);
        }
    }

    private static async Task<RunningService> StartServiceAsync(string connectionString)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["ConnectionStrings:cache"] = connectionString;
        builder.Configuration["RagPlatform:Cache:Redis:BreakSeconds"] = "1";
        builder.Logging.ClearProviders();
        builder.AddServiceDefaults();
        builder.Services.AddSingleton(new CacheMetrics());
        builder.ResolveRagTopology(RagHostRole.QueryApi);
        builder.AddRedisRagCache();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningService(app, new Uri(address));
    }

    private sealed record RunningService(WebApplication App, Uri Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
