namespace RagPlatform.Contracts.Http;

/// <summary><c>GET /v1/cache/stats</c>: this process's cache lookups since it started.</summary>
public sealed record CacheStatsResponse(IReadOnlyList<CacheTierStats> Tiers);

/// <summary>
/// Lookups of one kind of entry (embedding, query-embedding, search-result, document-metadata) in one tier
/// (l1 the in-process memory tier, l2 Redis). A lookup that L1 misses and L2 answers counts in both.
/// </summary>
public sealed record CacheTierStats(string Kind, string Tier, long Hits, long Misses, double HitRate);
