using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Integration.Tests;

/// <summary>Lexical and hybrid search over the embedded lexical index, kept in step with the vectors.</summary>
public sealed class HybridSearchTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Searches_are_hybrid_unless_a_mode_is_named()
    {
        await _client.IngestAsync("hybrid-default", KoreanSamples.Documents());

        var response = await _client.SearchAsync("hybrid-default", new { query = "주택담보대출 금리", topK = 2 });

        Assert.Equal(SearchModes.Hybrid, response.Mode);
        Assert.Equal("loan", response.Results[0].DocumentId);
        Assert.Equal("대출 금리 안내", response.Results[0].Title);
        Assert.Equal(["finance", "loan"], response.Results[0].Tags);
        Assert.Equal(2024, response.Results[0].Metadata["year"].GetInt32());
    }

    [Theory]
    [InlineData("lexical")]
    [InlineData("hybrid")]
    [InlineData("dense")]
    public async Task Each_mode_finds_the_document_and_says_which_ran(string mode)
    {
        await _client.IngestAsync("modes", KoreanSamples.Documents());

        var response = await _client.SearchAsync("modes", new { query = "건강검진 전날 금식", topK = 3, mode });

        Assert.Equal(mode, response.Mode);
        Assert.Equal("checkup", response.Results[0].DocumentId);
    }

    [Fact]
    public async Task Lexical_search_matches_a_noun_written_with_a_particle()
    {
        await _client.IngestAsync("particles", KoreanSamples.Documents());

        // The loan text says "은행의"; the query says "은행은".
        var response = await _client.SearchAsync("particles", new { query = "은행은", topK = 5, mode = "lexical" });

        Assert.Equal(["loan"], response.Results.Select(r => r.DocumentId));
        Assert.True(response.Results[0].Score > 0);
    }

    [Theory]
    [InlineData("lexical")]
    [InlineData("hybrid")]
    public async Task Tag_and_metadata_filters_apply_to_lexical_and_hybrid_results(string mode)
    {
        await _client.IngestAsync("filters", KoreanSamples.Documents());

        var byTag = await _client.SearchAsync("filters", new { query = "금리", topK = 10, mode, tags = new[] { "finance" } });
        var byMetadata = await _client.SearchAsync("filters", new { query = "금리", topK = 10, mode, filter = new { year = 2023, source = "bank" } });
        var none = await _client.SearchAsync("filters", new { query = "금리", topK = 10, mode, tags = new[] { "sports" }, filter = new { year = 2024 } });

        Assert.Equal(["deposit", "loan"], byTag.Results.Select(r => r.DocumentId).Distinct().Order());
        Assert.Equal(["deposit"], byMetadata.Results.Select(r => r.DocumentId).Distinct());
        Assert.Empty(none.Results);
    }

    [Fact]
    public async Task Changed_and_deleted_documents_leave_the_lexical_index()
    {
        await _client.IngestAsync("lexical-changes", KoreanSamples.Documents());
        var before = await _client.SearchAsync("lexical-changes", new { query = "축구 경기", topK = 5, mode = "lexical" });
        Assert.Equal("football", before.Results[0].DocumentId);

        await _client.IngestAsync("lexical-changes", new[] { new { id = "football", title = "야구 소식", text = "야구 경기가 비 때문에 취소되었다.", tags = new[] { "sports" } } });
        var changed = await _client.SearchAsync("lexical-changes", new { query = "축구", topK = 5, mode = "lexical" });
        var renamed = await _client.SearchAsync("lexical-changes", new { query = "야구 취소", topK = 5, mode = "lexical" });
        Assert.Empty(changed.Results);
        Assert.Equal("football", renamed.Results[0].DocumentId);
        Assert.Equal("야구 소식", renamed.Results[0].Title);

        using var deleted = await _client.DeleteAsync("/v1/collections/lexical-changes/documents/football");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var lexical = await _client.SearchAsync("lexical-changes", new { query = "야구 취소", topK = 5, mode = "lexical" });
        var hybrid = await _client.SearchAsync("lexical-changes", new { query = "야구 취소", topK = 5 });
        Assert.Empty(lexical.Results);
        Assert.DoesNotContain(hybrid.Results, r => r.DocumentId == "football");
    }

    [Fact]
    public async Task A_deleted_collection_leaves_no_terms_behind()
    {
        await _client.IngestAsync("lexical-drop", KoreanSamples.Documents());
        using var dropped = await _client.DeleteAsync("/v1/collections/lexical-drop");
        Assert.Equal(HttpStatusCode.NoContent, dropped.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(factory.DataDirectory, "lexical", "lexical-drop")));

        await _client.IngestAsync("lexical-drop", new[] { new { id = "other", text = "전혀 다른 내용의 문서이다." } });
        var response = await _client.SearchAsync("lexical-drop", new { query = "주택담보대출 금리", topK = 5, mode = "lexical" });

        Assert.Empty(response.Results);
    }

    [Fact]
    public async Task Results_are_cached_per_mode()
    {
        await _client.IngestAsync("mode-cache", KoreanSamples.Documents());

        var lexical = await _client.SearchAsync("mode-cache", new { query = "정기예금 금리", topK = 3, mode = "lexical" });
        var hybrid = await _client.SearchAsync("mode-cache", new { query = "정기예금 금리", topK = 3, mode = "hybrid" });
        var again = await _client.SearchAsync("mode-cache", new { query = "정기예금 금리", topK = 3, mode = "lexical" });

        Assert.False(lexical.Cached);
        Assert.False(hybrid.Cached);
        Assert.True(again.Cached);
        Assert.Equal("lexical", again.Mode);
        Assert.Equal(lexical.Results.Select(r => (r.ChunkId, r.Score)), again.Results.Select(r => (r.ChunkId, r.Score)));
    }
}

/// <summary>The rerank hook: a reranker plugin named by configuration reorders the fused candidates.</summary>
public sealed class RerankerTests(RerankerTests.Factory factory) : IClassFixture<RerankerTests.Factory>
{
    private readonly HttpClient _client = factory.CreateClient();

    public sealed class Factory : PlatformFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RagPlatform:Query:Reranker", "keyword");
            builder.UseSetting("RagPlatform:Query:Rerankers:keyword:Word", "축구");
        }
    }

    [Fact]
    public async Task A_configured_reranker_orders_the_candidates()
    {
        await _client.IngestAsync("rerank", KoreanSamples.Documents());

        var response = await _client.SearchAsync("rerank", new { query = "주택담보대출 금리", topK = 2 });

        Assert.Equal("football", response.Results[0].DocumentId);
        Assert.Equal(1f, response.Results[0].Score);
        Assert.Equal(2, response.Results.Count);
    }

    [Fact]
    public async Task A_search_that_says_rerank_false_keeps_the_fused_order()
    {
        await _client.IngestAsync("rerank-off", KoreanSamples.Documents());

        var reranked = await _client.SearchAsync("rerank-off", new { query = "주택담보대출 금리", topK = 2 });
        var plain = await _client.SearchAsync("rerank-off", new { query = "주택담보대출 금리", topK = 2, rerank = false });

        Assert.Equal("football", reranked.Results[0].DocumentId);
        Assert.NotEqual("football", plain.Results[0].DocumentId);
        Assert.False(plain.Cached); // another cache entry than the reranked search's
    }

    [Fact]
    public async Task The_reranker_reads_only_the_top_n_candidates_a_search_asks_for()
    {
        await _client.IngestAsync("rerank-topn", KoreanSamples.Documents());

        // The football document is not among the two best candidates for this query, so a reranker that reads
        // only those two cannot lift it.
        var response = await _client.SearchAsync("rerank-topn", new { query = "주택담보대출 금리", topK = 2, rerankTopN = 2 });

        Assert.DoesNotContain(response.Results, r => r.DocumentId == "football");
    }

    [Fact]
    public async Task An_out_of_range_rerank_top_n_is_a_400_naming_it()
    {
        var response = await _client.PostAsJsonAsync("/v1/collections/rerank-bad/search", new { query = "금리", rerankTopN = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("rerankTopN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>Without a reranker configured, a search cannot ask for one.</summary>
public sealed class NoRerankerTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task Rerank_true_without_a_configured_reranker_is_a_400_naming_rerank()
    {
        var response = await factory.CreateClient().PostAsJsonAsync("/v1/collections/no-reranker/search", new { query = "금리", rerank = true });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("RagPlatform:Query:Reranker", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
