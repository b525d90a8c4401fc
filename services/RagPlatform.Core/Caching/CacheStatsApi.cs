using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Hosting;

namespace RagPlatform.Core.Caching;

public static class CacheStatsApi
{
    /// <summary><c>GET /v1/cache/stats</c>: hits and misses per cache kind and tier in this process (admin).</summary>
    public static IEndpointRouteBuilder MapCacheStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/cache/stats", GetStats)
            .WithName("GetCacheStats")
            .WithSummary("Cache hits and misses per kind and tier in this process (admin)")
            .WithTags("Cache")
            .ProducesKeyProblems();
        return app;
    }

    public static Ok<CacheStatsResponse> GetStats(CacheMetrics metrics) => TypedResults.Ok(Report(metrics));

    public static CacheStatsResponse Report(CacheMetrics metrics) => new(metrics.Snapshot()
        .Select(c => new CacheTierStats(c.Kind, c.Tier, c.Hits, c.Misses, c.Hits + c.Misses == 0 ? 0 : Math.Round((double)c.Hits / (c.Hits + c.Misses), 4)))
        .ToList());
}
