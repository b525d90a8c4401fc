using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Hosting;
using StackExchange.Redis;

namespace RagPlatform.Caching.Redis;

public static class RedisCacheExtensions
{
    /// <summary>The Aspire connection name: <c>ConnectionStrings__cache=host:port,password=…[,ssl=true]</c>.</summary>
    public const string ConnectionName = RagTopology.CacheConnectionName;

    /// <summary>The health check Aspire's Redis client integration registers.</summary>
    public const string HealthCheckName = "StackExchange.Redis";

    /// <summary>
    /// The cache (embeddings, query embeddings, search results) is Redis behind the in-process tier when the host's
    /// <see cref="RagTopology"/> says so (<c>ConnectionStrings:cache</c> set on a host that shares a cache), shared by
    /// every process that names the same Redis; otherwise AddRagPlatformCore registers the in-process cache and this
    /// registers nothing. The connection is Aspire's client integration
    /// (<c>AddRedisClient</c>: one multiplexer per process, its tracing and health check); the health check reports
    /// Degraded, never Unhealthy, when Redis does not answer: without a cache the service still answers everything.
    /// </summary>
    public static IHostApplicationBuilder AddRedisRagCache(this IHostApplicationBuilder builder)
    {
        if (builder.GetRagTopology().Cache != CachePlacement.Redis)
        {
            return builder;
        }

        var options = builder.Configuration.GetSection(RedisCacheOptions.SectionName).Get<RedisCacheOptions>() ?? new RedisCacheOptions();
        builder.Services.AddValidatedOptions<RedisCacheOptions, RedisCacheOptionsValidator>(builder.Configuration, RedisCacheOptions.SectionName);
        builder.AddRedisClient(ConnectionName, configureOptions: configuration => RedisRagCache.Configure(configuration, options));
        builder.Services.Configure<HealthCheckServiceOptions>(health =>
        {
            foreach (var registration in health.Registrations.Where(r => r.Name == HealthCheckName))
            {
                registration.FailureStatus = HealthStatus.Degraded;
            }
        });

        builder.Services.AddSingleton<IRagCache>(sp =>
        {
            var redis = sp.GetRequiredService<IOptions<RedisCacheOptions>>().Value;
            var metrics = sp.GetRequiredService<CacheMetrics>();
            var memory = redis.MemoryTierSeconds > 0 ? new MemoryRagCache(sp.GetRequiredService<IOptions<CacheOptions>>().Value, metrics) : null;
            return new RedisRagCache(sp.GetRequiredService<IConnectionMultiplexer>(), redis, memory, sp.GetRequiredService<ILogger<RedisRagCache>>(), metrics: metrics);
        });
        return builder;
    }
}
