using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace RagPlatform.Core.Caching;

/// <summary>
/// Hit and miss counts per cache kind and tier (<c>l1</c> the in-process memory tier, <c>l2</c> Redis): the
/// <c>ragplatform.cache.lookups</c> counter for <c>/metrics</c>, and running totals for <c>GET /v1/cache/stats</c>
/// (<c>rag status</c>). A lookup that L1 misses and L2 answers counts once in each tier.
/// </summary>
public sealed class CacheMetrics
{
    public const string MeterName = "RagPlatform.Cache";
    public const string MemoryTier = "l1";
    public const string RedisTier = "l2";

    private readonly Counter<long>? _lookups;
    private readonly ConcurrentDictionary<(string Kind, string Tier), Tally> _tallies = new();

    public CacheMetrics(IMeterFactory meterFactory)
    {
        _lookups = meterFactory.Create(MeterName).CreateCounter<long>("ragplatform.cache.lookups", unit: "{lookup}",
            description: "Cache lookups by kind (embedding, query-embedding, search-result, document-metadata), tier (l1 memory, l2 redis) and outcome (hit, miss).");
    }

    /// <summary>Totals only, no meter (tests, tools).</summary>
    public CacheMetrics()
    {
    }

    public void Record(string key, string tier, bool hit) => Record(key, tier, hit ? 1 : 0, hit ? 0 : 1);

    public void Record(string key, string tier, long hits, long misses)
    {
        var kind = CacheKinds.Of(key);
        var tally = _tallies.GetOrAdd((kind, tier), _ => new Tally());
        if (hits > 0)
        {
            Interlocked.Add(ref tally.Hits, hits);
            _lookups?.Add(hits, new("kind", kind), new("tier", tier), new("outcome", "hit"));
        }

        if (misses > 0)
        {
            Interlocked.Add(ref tally.Misses, misses);
            _lookups?.Add(misses, new("kind", kind), new("tier", tier), new("outcome", "miss"));
        }
    }

    /// <summary>Totals since the process started, ordered by kind then tier.</summary>
    public IReadOnlyList<CacheTierCounts> Snapshot() => _tallies
        .Select(t => new CacheTierCounts(t.Key.Kind, t.Key.Tier, Interlocked.Read(ref t.Value.Hits), Interlocked.Read(ref t.Value.Misses)))
        .OrderBy(c => c.Kind, StringComparer.Ordinal)
        .ThenBy(c => c.Tier, StringComparer.Ordinal)
        .ToList();

    public CacheTierCounts Get(string kind, string tier) =>
        _tallies.TryGetValue((kind, tier), out var tally)
            ? new CacheTierCounts(kind, tier, Interlocked.Read(ref tally.Hits), Interlocked.Read(ref tally.Misses))
            : new CacheTierCounts(kind, tier, 0, 0);

    private sealed class Tally
    {
        public long Hits;
        public long Misses;
    }
}

public sealed record CacheTierCounts(string Kind, string Tier, long Hits, long Misses);
