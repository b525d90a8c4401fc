using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Core.Caching;

public static class CacheStatsApi
{
    /// <summary><c>GET /v1/cache/stats</c>: hits and misses per cache kind and tier in this process (admin).</summary>
    public static IEndpointRouteBuilder MapCacheStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/cache/stats", (CacheMetrics metrics) => Results.Ok(Report(metrics))).WithTags("Cache");
        return app;
    }

    public static CacheStatsResponse Report(CacheMetrics metrics) => new(metrics.Snapshot()
        .Select(c => new CacheTierStats(c.Kind, c.Tier, c.Hits, c.Misses, c.Hits + c.Misses == 0 ? 0 : Math.Round((double)c.Hits / (c.Hits + c.Misses), 4)))
        .ToList());
}
