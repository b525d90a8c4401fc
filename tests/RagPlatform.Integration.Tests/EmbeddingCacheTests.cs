using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagPlatform.Caching.Redis;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Caching;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;
using RagPlatform.Tests.Shared;
using StackExchange.Redis;

namespace RagPlatform.Integration.Tests;

/// <summary>
/// The embedding cache (L1 memory, L2 a real redis-server started by scripts/servers/redis.sh and stopped by its
/// PID afterwards) on the real worker path: ingestion → in-memory bus → DocumentEmbedder → provider.
/// </summary>
public sealed class EmbeddingCacheTests : IAsyncLifetime
{
    private static readonly ModelFingerprint Fingerprint = new("test", "model", "1", 4, "none", "l2");
    private TestRedis _redis = null!;

    public async Task InitializeAsync() => _redis = await TestRedis.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task A_second_worker_embeds_nothing_the_first_embedded_even_for_another_collection()
    {
        var documents = Enumerable.Range(0, 12).Select(i => new
        {
            id = $"doc-{i}",
            title = $"문서 {i}",
            text = $"서울 {i}번 지점의 예금 금리는 연 {i}.5%입니다. 대출 상담은 평일 오전 9시부터 가능합니다. 문서 번호 {i * 7919}.",
        }).ToArray();

        using var first = new RedisPlatform(_redis.ConnectionString);
        using var firstClient = await first.StartAsync();
        await PutCountingCollectionAsync(firstClient, "first");
        var firstJob = await firstClient.IngestAsync("first", documents);
        var firstTexts = first.TextsEmbedded();

        using var second = new RedisPlatform(_redis.ConnectionString);
        using var secondClient = await second.StartAsync();
        await PutCountingCollectionAsync(secondClient, "second");
        var secondJob = await secondClient.IngestAsync("second", documents);

        Assert.Equal(JobStates.Completed, firstJob.State);
        Assert.Equal(JobStates.Completed, secondJob.State);
        Assert.True(firstTexts >= documents.Length, $"the first worker embedded {firstTexts} texts");
        Assert.Equal(0, second.TextsEmbedded());
        Assert.Equal(0, secondJob.ChunksEmbedded);
        Assert.Equal(firstJob.ChunksEmbedded + firstJob.ChunksReused, secondJob.ChunksReused);

        // The second worker's vectors came from Redis (its own L1 was empty), and it searches like the first.
        var stats = (await secondClient.GetFromJsonAsync<CacheStatsResponse>("/v1/cache/stats", PlatformFactory.Json))!;
        var l2 = Assert.Single(stats.Tiers, t => t is { Kind: CacheKinds.Embedding, Tier: CacheMetrics.RedisTier });
        Assert.Equal(firstTexts, l2.Hits);
        Assert.Equal(0, l2.Misses);
        var metrics = await secondClient.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("ragplatform_cache_lookups_total{", StringComparison.Ordinal)
            && line.Contains("kind=\"embedding\"", StringComparison.Ordinal) && line.Contains("tier=\"l2\"", StringComparison.Ordinal)
            && line.Contains("outcome=\"hit\"", StringComparison.Ordinal));

        var query = new SearchRequest("서울 3번 지점 예금 금리", 3, SearchModes.Dense, null, null);
        var one = await firstClient.PostAsJsonAsync("/v1/collections/first/search", query);
        var two = await secondClient.PostAsJsonAsync("/v1/collections/second/search", query);
        var oneResults = (await one.Content.ReadFromJsonAsync<SearchResponse>(PlatformFactory.Json))!.Results;
        var twoResults = (await two.Content.ReadFromJsonAsync<SearchResponse>(PlatformFactory.Json))!.Results;
        Assert.Equal(oneResults.Select(r => r.DocumentId), twoResults.Select(r => r.DocumentId));
    }

    [Fact]
    public async Task With_redis_down_embedding_still_works_and_every_text_goes_to_the_provider()
    {
        // Nothing listens there: every L2 lookup and write is a quick miss.
        using var platform = new RedisPlatform("127.0.0.1:1", waitForRedis: false);
        using var client = await platform.StartAsync();
        await PutCountingCollectionAsync(client, "no-redis");

        var job = await client.IngestAsync("no-redis", KoreanSamples.Documents());

        Assert.Equal(JobStates.Completed, job.State);
        Assert.True(job.ChunksEmbedded > 0);
        Assert.Equal(job.ChunksEmbedded, platform.TextsEmbedded());
        using var search = await client.PostAsJsonAsync("/v1/collections/no-redis/search", new { query = "금리", mode = "dense" });
        Assert.Equal(System.Net.HttpStatusCode.OK, search.StatusCode);
    }

    [Fact]
    public async Task The_memory_tier_evicts_least_recently_used_entries_to_stay_within_its_byte_bound()
    {
        var value = new byte[1000];
        var entry = MemoryRagCache.SizeOf("emb:a", value);
        var metrics = new CacheMetrics();
        using var cache = new MemoryRagCache(new CacheOptions { MemoryCacheBytes = entry * 3 }, metrics);
        var ttl = TimeSpan.FromMinutes(5);
        await cache.SetAsync("emb:a", value, ttl, CancellationToken.None);
        await cache.SetAsync("emb:b", value, ttl, CancellationToken.None);
        await cache.SetAsync("emb:c", value, ttl, CancellationToken.None);
        Assert.NotNull(await cache.GetAsync("emb:a", CancellationToken.None)); // a is now the most recent

        await cache.SetAsync("emb:d", value, ttl, CancellationToken.None);

        Assert.Null(await cache.GetAsync("emb:b", CancellationToken.None));
        Assert.NotNull(await cache.GetAsync("emb:a", CancellationToken.None));
        Assert.NotNull(await cache.GetAsync("emb:c", CancellationToken.None));
        Assert.NotNull(await cache.GetAsync("emb:d", CancellationToken.None));
        Assert.Equal(3, cache.Count);
        Assert.True(cache.SizeBytes <= entry * 3);

        // A value larger than the whole bound is not kept, and pushes nothing out.
        await cache.SetAsync("emb:huge", new byte[entry * 4], ttl, CancellationToken.None);
        Assert.Null(await cache.GetAsync("emb:huge", CancellationToken.None));
        Assert.Equal(3, cache.Count);

        for (var i = 0; i < 1000; i++)
        {
            await cache.SetAsync($"emb:{i}", value, ttl, CancellationToken.None);
            Assert.True(cache.SizeBytes <= entry * 3);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(12)]
    [InlineData(20)]
    public async Task Cached_bytes_of_the_wrong_length_are_a_miss(int length)
    {
        using var cache = await ConnectedAsync(new CacheMetrics());
        var embeddings = new EmbeddingCache(cache, Options.Create(new CacheOptions()));
        await cache.SetAsync(EmbeddingCache.Key(Fingerprint, EmbeddingPurpose.Document, "text"), new byte[length], TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Null((await embeddings.GetAsync(Fingerprint, EmbeddingPurpose.Document, ["text"], CancellationToken.None))[0]);
    }

    [Fact]
    public async Task Cached_bytes_holding_nan_are_a_miss_and_a_good_vector_round_trips_through_redis()
    {
        using var writer = await ConnectedAsync(new CacheMetrics());
        using var reader = await ConnectedAsync(new CacheMetrics());
        var embeddings = new EmbeddingCache(reader, Options.Create(new CacheOptions()));
        await writer.SetAsync(EmbeddingCache.Key(Fingerprint, EmbeddingPurpose.Document, "nan"),
            EmbeddingCache.Encode([0.5f, float.NaN, 0.5f, 0.5f]), TimeSpan.FromMinutes(1), CancellationToken.None);
        await new EmbeddingCache(writer, Options.Create(new CacheOptions())).SetAsync(Fingerprint, EmbeddingPurpose.Document,
            [new("good", [0.5f, 0.5f, 0.5f, 0.5f])], TimeSpan.FromMinutes(1), CancellationToken.None);

        var found = await embeddings.GetAsync(Fingerprint, EmbeddingPurpose.Document, ["nan", "good", "absent"], CancellationToken.None);

        Assert.Null(found[0]);
        Assert.Equal([0.5f, 0.5f, 0.5f, 0.5f], found[1]!);
        Assert.Null(found[2]);
        // Same text and model, other purpose: another key.
        Assert.Null((await embeddings.GetAsync(Fingerprint, EmbeddingPurpose.Query, ["good"], CancellationToken.None))[0]);
    }

    [Fact]
    public async Task Hits_and_misses_are_counted_per_tier_and_kind()
    {
        var writerMetrics = new CacheMetrics();
        var readerMetrics = new CacheMetrics();
        using var writer = await ConnectedAsync(writerMetrics);
        using var reader = await ConnectedAsync(readerMetrics);
        var key = EmbeddingCache.Key(Fingerprint, EmbeddingPurpose.Document, "counted");

        Assert.Null(await reader.GetAsync(key, CancellationToken.None));
        Assert.Equal(new CacheTierCounts(CacheKinds.Embedding, "l1", 0, 1), readerMetrics.Get(CacheKinds.Embedding, "l1"));
        Assert.Equal(new CacheTierCounts(CacheKinds.Embedding, "l2", 0, 1), readerMetrics.Get(CacheKinds.Embedding, "l2"));

        await writer.SetAsync(key, [1, 2, 3, 4], TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.NotNull(await reader.GetAsync(key, CancellationToken.None)); // L1 miss, L2 hit (and now in L1)
        Assert.NotNull(await reader.GetAsync(key, CancellationToken.None)); // L1 hit, Redis not asked
        Assert.Equal(new CacheTierCounts(CacheKinds.Embedding, "l1", 1, 2), readerMetrics.Get(CacheKinds.Embedding, "l1"));
        Assert.Equal(new CacheTierCounts(CacheKinds.Embedding, "l2", 1, 1), readerMetrics.Get(CacheKinds.Embedding, "l2"));

        // Batched lookups count each key; other kinds are counted apart.
        await reader.GetManyAsync([key, EmbeddingCache.Key(Fingerprint, EmbeddingPurpose.Document, "other")], CancellationToken.None);
        await reader.GetAsync("search:abc", CancellationToken.None);
        await reader.GetAsync(EmbeddingCache.Key(Fingerprint, EmbeddingPurpose.Query, "q"), CancellationToken.None);
        Assert.Equal(new CacheTierCounts(CacheKinds.Embedding, "l1", 2, 3), readerMetrics.Get(CacheKinds.Embedding, "l1"));
        Assert.Equal(new CacheTierCounts(CacheKinds.Embedding, "l2", 1, 2), readerMetrics.Get(CacheKinds.Embedding, "l2"));
        Assert.Equal(new CacheTierCounts(CacheKinds.SearchResult, "l2", 0, 1), readerMetrics.Get(CacheKinds.SearchResult, "l2"));
        Assert.Equal(new CacheTierCounts(CacheKinds.QueryEmbedding, "l1", 0, 1), readerMetrics.Get(CacheKinds.QueryEmbedding, "l1"));
        Assert.Empty(writerMetrics.Snapshot());
    }

    private static async Task PutCountingCollectionAsync(HttpClient client, string name)
    {
        using var put = await client.PutAsJsonAsync($"/v1/collections/{name}", new { embedding = new { provider = "counting" } });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
    }

    private async Task<RedisRagCache> ConnectedAsync(CacheMetrics metrics)
    {
        var options = new RedisCacheOptions { BreakSeconds = 1 };
        var cache = new RedisRagCache(_redis.Connect(options), options,
            new MemoryRagCache(new CacheOptions(), metrics), NullLogger<RedisRagCache>.Instance, metrics: metrics);
        await WaitForAsync(cache);
        return cache;
    }

    private static async Task WaitForAsync(RedisRagCache cache)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!cache.IsAvailable)
        {
            Assert.True(DateTime.UtcNow < deadline, "never connected to Redis");
            await Task.Delay(50);
        }
    }

    /// <summary>One standalone platform (a worker among others) whose cache is L1 + the shared Redis.</summary>
    private sealed class RedisPlatform(string redis, bool waitForRedis = true) : PlatformFactory
    {
        private static readonly RedisCacheOptions RedisOptions = new() { BreakSeconds = 1, OperationTimeoutMilliseconds = 2_000 };
        private readonly ConnectionMultiplexer _connection = TestRedis.ConnectTo(redis, RedisOptions);

        public async Task<HttpClient> StartAsync()
        {
            var client = CreateClient();
            if (waitForRedis)
            {
                await WaitForAsync((RedisRagCache)Services.GetRequiredService<IRagCache>());
            }

            return client;
        }

        /// <summary>Texts the counting provider was sent (its usage report, read across the plugin's load context).</summary>
        public long TextsEmbedded() => Services.GetRequiredService<PluginHost>().CreatedEmbeddingProviders
            .Where(p => p.Name == "counting")
            .Sum(p => ((IEmbeddingProviderUsage)p.Provider).GetUsage().Tokens);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.RemoveAll<IRagCache>();
                services.AddSingleton<IRagCache>(sp =>
                {
                    var metrics = sp.GetRequiredService<CacheMetrics>();
                    return new RedisRagCache(_connection, RedisOptions,
                        new MemoryRagCache(new CacheOptions(), metrics), NullLogger<RedisRagCache>.Instance, metrics: metrics);
                });
            });
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                _connection.Dispose();
            }
        }
    }
}
