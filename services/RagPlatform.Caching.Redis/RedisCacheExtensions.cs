using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Caching;

namespace RagPlatform.Caching.Redis;

public static class RedisCacheExtensions
{
    /// <summary>The Aspire connection name: <c>ConnectionStrings__cache=host:port,password=…[,ssl=true]</c>.</summary>
    public const string ConnectionName = "cache";

    /// <summary>
    /// The cache (embeddings, query embeddings, search results) is Redis behind the in-process tier when
    /// <c>ConnectionStrings:cache</c> is set, shared by every process that names the same Redis;
    /// otherwise the embedded in-process cache registered by AddRagPlatformCore stays.
    /// </summary>
    public static IHostApplicationBuilder AddRedisRagCache(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return builder;
        }

        builder.Services.AddOptions<RedisCacheOptions>()
            .Bind(builder.Configuration.GetSection(RedisCacheOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.RemoveAll<IRagCache>();
        builder.Services.AddSingleton<IRagCache>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisCacheOptions>>().Value;
            var metrics = sp.GetRequiredService<CacheMetrics>();
            var memory = options.MemoryTierSeconds > 0 ? new MemoryRagCache(sp.GetRequiredService<IOptions<CacheOptions>>().Value, metrics) : null;
            return new RedisRagCache(connectionString, options, memory, sp.GetRequiredService<ILogger<RedisRagCache>>(), metrics: metrics);
        });
        return builder;
    }
}
