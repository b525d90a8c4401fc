using System.Net;
using System.Net.Http.Json;
using RagPlatform.Contracts.Http;
using RagPlatform.Query;

namespace RagPlatform.Integration.Tests;

/// <summary><c>POST /v1/collections/{name}/context</c>: search results packed into a bounded, sourced context.</summary>
public sealed class ContextTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Small_documents_fit_whole_with_numbered_sources_best_first()
    {
        await _client.IngestAsync("context-whole", KoreanSamples.Documents());

        var context = await ContextAsync("context-whole", new { query = "주택담보대출 금리", maxDocs = 2 });

        Assert.Equal(2, context.Sources.Count);
        Assert.Equal("loan", context.Sources[0].DocumentId);
        Assert.Equal(1, context.Sources[0].Index);
        Assert.False(context.Sources[0].Compressed);
        Assert.StartsWith("[1] 대출 금리 안내\n은행의 주택담보대출 금리가", context.Context, StringComparison.Ordinal);
        Assert.Contains("\n\n[2] ", context.Context, StringComparison.Ordinal);
        Assert.Equal(context.Context.Length, context.Chars);
        Assert.Equal(context.OriginalChars, context.Sources.Sum(s => s.Chars));
    }

    [Fact]
    public async Task A_tight_budget_keeps_the_sentence_that_answers_and_respects_max_chars()
    {
        var filler = string.Concat(Enumerable.Repeat("회의 자료는 부서 공유 폴더에 정리되어 있다. 일정은 다음 주에 다시 안내한다. ", 12));
        await _client.IngestAsync("context-tight", new object[]
        {
            new { id = "policy", title = "휴가 규정", text = filler + "연차 휴가는 입사 첫해에 열다섯 일이 주어진다. " + filler },
        });

        var context = await ContextAsync("context-tight", new { query = "연차 휴가 일수", maxChars = 200, maxDocs = 1 });

        Assert.True(context.Chars <= 200, $"{context.Chars} characters");
        Assert.True(context.Sources[0].Compressed);
        Assert.Contains("연차 휴가는 입사 첫해에 열다섯 일이 주어진다.", context.Context, StringComparison.Ordinal);
        Assert.True(context.OriginalChars > context.Chars);
    }

    [Theory]
    [InlineData("{\"maxChars\": 100}", "maxChars")]
    [InlineData("{\"query\": \"금리\", \"maxDocs\": 0}", "maxDocs")]
    [InlineData("{\"query\": \"금리\", \"candidates\": 100000}", "candidates")]
    [InlineData("{\"query\": \"\"}", "query")]
    public async Task Bad_budgets_are_refused_naming_the_field(string body, string field)
    {
        await _client.IngestAsync("context-bad", KoreanSamples.Documents());

        var response = await _client.PostAsync("/v1/collections/context-bad/context",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public void Shares_are_max_min_fair_and_never_exceed_the_budget()
    {
        Assert.Equal([100, 450, 450], ContextService.Share([100, 2000, 5000], 1000));
        Assert.Equal([100, 200, 300], ContextService.Share([100, 200, 300], 1000));
        Assert.Equal([333, 333, 333], ContextService.Share([900, 900, 900], 1000));
        Assert.Empty(ContextService.Share([], 1000));
    }

    [Fact]
    public void Compression_prints_chosen_sentences_in_order_and_marks_gaps()
    {
        const string text = "첫 문장은 배경이다. 금리는 연 3.5%이다. 셋째 문장은 잡담이다. 넷째 문장도 잡담이다. 해지하면 이율이 낮아진다.";
        var terms = new HashSet<string>(["금리", "이율"], StringComparer.Ordinal);

        var compressed = ContextService.Compress(text, 40, terms);

        Assert.Equal("… 금리는 연 3.5%이다. … 해지하면 이율이 낮아진다.", compressed);
        Assert.Equal(string.Empty, ContextService.Compress(text, 5, terms));
        Assert.EndsWith("…", ContextService.Compress("아주 긴 한 문장이 예산보다 훨씬 길어서 잘라야만 하는 경우를 시험한다", 20, terms), StringComparison.Ordinal);
    }

    private async Task<ContextResponse> ContextAsync(string collection, object request)
    {
        var response = await _client.PostAsJsonAsync($"/v1/collections/{collection}/context", request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ContextResponse>())!;
    }
}
