using System.Net;
using System.Net.Http.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Integration.Tests;

/// <summary>The whole embedded path: ingest, embed on the bus, search; and the work it must not repeat.</summary>
public sealed class IngestionPathTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Ingested_Korean_documents_are_found_by_search()
    {
        var job = await _client.IngestAsync("search-basic", KoreanSamples.Documents());

        Assert.Equal(JobStates.Completed, job.State);
        Assert.Equal(4, job.Succeeded);
        var response = await _client.SearchAsync("search-basic", new { query = "주택담보대출 금리", topK = 2 });
        Assert.Equal("loan", response.Results[0].DocumentId);
        Assert.Equal("대출 금리 안내", response.Results[0].Title);
        Assert.Equal(["finance", "loan"], response.Results[0].Tags);
        Assert.Equal(2024, response.Results[0].Metadata["year"].GetInt32());
    }

    [Fact]
    public async Task Reposting_unchanged_documents_embeds_nothing()
    {
        var first = await _client.IngestAsync("repost", KoreanSamples.Documents());
        var before = await _client.StatsAsync("repost");

        var second = await _client.IngestAsync("repost", KoreanSamples.Documents());

        // Other tests of this class may have embedded the same texts first: the embedding cache then serves them.
        Assert.True(first.ChunksEmbedded + first.ChunksReused > 0);
        Assert.Equal(JobStates.Completed, second.State);
        Assert.Equal(4, second.Unchanged);
        Assert.Equal(0, second.ChunksEmbedded);
        var after = await _client.StatsAsync("repost");
        Assert.Equal(before.Chunks, after.Chunks);
        Assert.Equal(before.Version, after.Version);
    }

    [Fact]
    public async Task Changing_a_document_reembeds_only_its_changed_chunks_and_deletes_vanished_ones()
    {
        var sentences = Enumerable.Range(0, 60).Select(i => $"이 문서의 {i}번째 문장은 변하지 않는 내용을 담고 있다.").ToList();
        var original = new[] { new { id = "long", text = string.Join(' ', sentences) } };
        var first = await _client.IngestAsync("change", original);
        Assert.True(first.ChunksEmbedded >= 4, $"want several chunks, got {first.ChunksEmbedded}");

        sentences[^1] = "마지막 문장은 완전히 새로운 내용으로 바뀌었다.";
        var changed = await _client.IngestAsync("change", new[] { new { id = "long", text = string.Join(' ', sentences) } });

        Assert.Equal(1, changed.Succeeded);
        Assert.InRange(changed.ChunksEmbedded, 1, 2);
        Assert.True(changed.ChunksUnchanged >= first.ChunksEmbedded - 2);
        Assert.Equal(changed.ChunksEmbedded, changed.ChunksDeleted);
        var stats = await _client.StatsAsync("change");
        Assert.Equal(first.ChunksEmbedded, stats.Chunks);
        var hit = await _client.SearchAsync("change", new { query = "완전히 새로운 내용", topK = 1 });
        Assert.Contains("완전히 새로운", hit.Results[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Identical_chunk_text_is_embedded_once_per_collection()
    {
        const string shared = "모든 지점에 공통으로 적용되는 영업시간 안내문이다. 평일 오전 아홉 시부터 오후 네 시까지 운영한다.";
        var first = await _client.IngestAsync("dedupe", new[] { new { id = "branch-1", text = shared }, new { id = "branch-2", text = shared } });
        var later = await _client.IngestAsync("dedupe", new[] { new { id = "branch-3", text = shared } });

        Assert.Equal(1, first.ChunksEmbedded);
        Assert.Equal(1, first.ChunksReused);
        Assert.Equal(0, later.ChunksEmbedded);
        Assert.Equal(1, later.ChunksReused);
        Assert.Equal(3, (await _client.StatsAsync("dedupe")).Chunks);
    }

    [Fact]
    public async Task Changing_only_tags_rewrites_payloads_without_embedding()
    {
        await _client.IngestAsync("retag", new[] { new { id = "a", text = "태그만 바뀌는 문서이다.", tags = new[] { "old" } } });

        var job = await _client.IngestAsync("retag", new[] { new { id = "a", text = "태그만 바뀌는 문서이다.", tags = new[] { "new" } } });

        Assert.Equal(0, job.ChunksEmbedded);
        var hit = await _client.SearchAsync("retag", new { query = "태그만 바뀌는 문서", tags = new[] { "new" } });
        Assert.Single(hit.Results);
        Assert.Empty((await _client.SearchAsync("retag", new { query = "태그만 바뀌는 문서", tags = new[] { "old" } })).Results);
    }

    [Fact]
    public async Task Deleting_a_document_removes_its_points()
    {
        await _client.IngestAsync("delete-doc", KoreanSamples.Documents());

        using var response = await _client.DeleteAsync("/v1/collections/delete-doc/documents/loan");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var results = await _client.SearchAsync("delete-doc", new { query = "주택담보대출 금리", topK = 10 });
        Assert.DoesNotContain(results.Results, r => r.DocumentId == "loan");
        var stats = await _client.StatsAsync("delete-doc");
        Assert.Equal(3, stats.Documents);
        using var again = await _client.DeleteAsync("/v1/collections/delete-doc/documents/loan");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Tag_and_metadata_filters_restrict_results()
    {
        await _client.IngestAsync("filters", KoreanSamples.Documents());

        var finance2023 = await _client.SearchAsync("filters", new { query = "금리", topK = 10, tags = new[] { "finance" }, filter = new { year = 2023 } });

        Assert.Equal(["deposit"], finance2023.Results.Select(r => r.DocumentId).Distinct());
    }

    [Fact]
    public async Task A_repeated_search_is_served_from_cache_until_the_collection_changes()
    {
        await _client.IngestAsync("cache", KoreanSamples.Documents());
        var first = await _client.SearchAsync("cache", new { query = "건강검진 금식" });
        var second = await _client.SearchAsync("cache", new { query = "건강검진 금식" });

        await _client.IngestAsync("cache", new[] { new { id = "new", text = "건강검진 금식 시간은 여덟 시간 이상이다." } });
        var third = await _client.SearchAsync("cache", new { query = "건강검진 금식" });

        Assert.False(first.Cached);
        Assert.True(second.Cached);
        Assert.False(third.Cached);
        Assert.Contains(third.Results, r => r.DocumentId == "new");
    }

    [Fact]
    public async Task Collections_list_and_stats_report_fingerprint_backend_and_counts()
    {
        await _client.IngestAsync("stats", KoreanSamples.Documents());

        var stats = await _client.StatsAsync("stats");
        var list = await _client.GetFromJsonAsync<CollectionList>("/v1/collections", PlatformFactory.Json);

        Assert.Equal(4, stats.Documents);
        Assert.Equal(0, stats.Pending);
        Assert.Equal("embedded", stats.Settings.VectorBackend);
        Assert.StartsWith("hashing/korean-ngram-hash@", stats.ModelFingerprint, StringComparison.Ordinal);
        Assert.Contains(list!.Collections, c => c.Name == "stats");
    }

    [Fact]
    public async Task Deleting_a_collection_removes_it_everywhere()
    {
        await _client.IngestAsync("drop-me", KoreanSamples.Documents());

        using var response = await _client.DeleteAsync("/v1/collections/drop-me");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        using var stats = await _client.GetAsync("/v1/collections/drop-me");
        Assert.Equal(HttpStatusCode.NotFound, stats.StatusCode);
        var recreated = await _client.IngestAsync("drop-me", KoreanSamples.Documents());
        Assert.Equal(4, recreated.Succeeded);
    }
}
