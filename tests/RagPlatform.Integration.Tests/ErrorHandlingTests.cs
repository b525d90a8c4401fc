using System.Net;
using System.Net.Http.Json;
using System.Text;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Integration.Tests;

/// <summary>Bad input gets a clear problem detail naming the field, and nothing is half-written.</summary>
public sealed class ErrorHandlingTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Empty_text_is_refused_naming_the_field_and_nothing_of_the_batch_is_written()
    {
        await _client.IngestAsync("bad-batch", KoreanSamples.Documents());
        var before = await _client.StatsAsync("bad-batch");

        using var response = await _client.PostAsJsonAsync("/v1/collections/bad-batch/documents", new object[]
        {
            new { id = "fine", text = "정상적인 문서이다." },
            new { id = "empty", text = "   " },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty("$[1].text", out _));
        var after = await _client.StatsAsync("bad-batch");
        Assert.Equal(before.Documents, after.Documents);
        Assert.Equal(before.Chunks, after.Chunks);
        Assert.Equal(before.Version, after.Version);
    }

    [Theory]
    [InlineData("""[{"id": "a"}]""", "$[0].text")]
    [InlineData("""[{"text": "내용"}]""", "$[0].id")]
    [InlineData("""[{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]""", "$[1].id")]
    [InlineData("""[{"id": "a", "text": "x", "metadata": {"nested": {"no": 1}}}]""", "$[0].metadata.nested")]
    [InlineData("""[{"id": "a", "text": "x", "tags": [""]}]""", "$[0].tags[0]")]
    [InlineData("""[]""", "$")]
    public async Task Invalid_documents_are_refused_naming_the_field(string body, string field)
    {
        using var response = await _client.PostAsync("/v1/collections/invalid-docs/documents", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Invalid_json_is_a_400_with_the_position()
    {
        using var response = await _client.PostAsync("/v1/collections/json/documents", new StringContent("""[{"id": "a", "text": """, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Contains("$[0]", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_50_MB_body_is_refused_with_413_and_nothing_is_written()
    {
        var text = new string('가', 50 * 1024 * 1024 / 3);
        using var content = new StringContent($$"""[{"id": "huge", "text": "{{text}}"}]""", Encoding.UTF8, "application/json");

        using var response = await _client.PostAsync("/v1/collections/huge/documents", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Contains("MaxRequestBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var stats = await _client.GetAsync("/v1/collections/huge");
        Assert.Equal(HttpStatusCode.NotFound, stats.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/v1/collections/missing/search", """{"query": "검색"}""")]
    [InlineData("GET", "/v1/collections/missing", null)]
    [InlineData("DELETE", "/v1/collections/missing", null)]
    [InlineData("DELETE", "/v1/collections/missing/documents/x", null)]
    [InlineData("GET", "/v1/jobs/6d1c0000-48fa-024e-1ef1-08df47c02ae1", null)]
    public async Task An_unknown_resource_is_a_404_problem(string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await response.ProblemAsync()).GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("""{"query": ""}""", "query")]
    [InlineData("""{"query": "검색", "topK": 0}""", "topK")]
    [InlineData("""{"query": "검색", "topK": 100000}""", "topK")]
    [InlineData("""{"query": "검색", "mode": "fuzzy"}""", "mode")]
    [InlineData("""{"query": "검색", "filter": {"a": [1]}}""", "filter.a")]
    public async Task Invalid_searches_are_refused_naming_the_field(string body, string field)
    {
        await _client.IngestAsync("search-errors", KoreanSamples.Documents());

        using var response = await _client.PostAsync("/v1/collections/search-errors/search", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("has space")]
    [InlineData("-leading")]
    public async Task Invalid_collection_names_are_refused(string name)
    {
        using var response = await _client.PostAsJsonAsync($"/v1/collections/{Uri.EscapeDataString(name)}/documents", KoreanSamples.Documents());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty("name", out _));
    }

    [Fact]
    public async Task A_plugin_returning_wrong_dimension_vectors_fails_the_job_and_writes_nothing()
    {
        using var put = await _client.PutAsJsonAsync("/v1/collections/wrong-dims", new { embedding = new { provider = "faulty" } });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        var job = await _client.IngestAsync("wrong-dims", KoreanSamples.Documents());

        Assert.Equal(JobStates.Failed, job.State);
        Assert.Equal(4, job.Failed);
        Assert.All(job.Errors, e => Assert.Contains("32 dimensions", e.Error, StringComparison.Ordinal));
        var stats = await _client.StatsAsync("wrong-dims");
        Assert.Equal(0, stats.Chunks);
        Assert.Equal(0, stats.Documents);

        using var search = await _client.PostAsJsonAsync("/v1/collections/wrong-dims/search", new { query = "금리" });
        Assert.Equal(HttpStatusCode.BadGateway, search.StatusCode);
        Assert.Contains("32 dimensions", (await search.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_failing_one_item_fails_only_that_document()
    {
        using var put = await _client.PutAsJsonAsync("/v1/collections/one-bad", new { embedding = new { provider = "faulty", settings = new { ActualDimensions = "64" } } });
        Assert.True(put.IsSuccessStatusCode);

        var job = await _client.IngestAsync("one-bad", new object[]
        {
            new { id = "good", text = "좋은 문서이다." },
            new { id = "bad", text = "이 문서는 #fail# 표시가 있다." },
        });

        Assert.Equal(JobStates.CompletedWithErrors, job.State);
        Assert.Equal(1, job.Succeeded);
        Assert.Equal([new JobItemError("bad", "Chunk 0: this input is refused by the faulty provider")], job.Errors);
        Assert.Equal(1, (await _client.StatsAsync("one-bad")).Documents);
    }

    [Fact]
    public async Task Changing_the_model_of_a_filled_collection_is_a_conflict()
    {
        await _client.IngestAsync("model-change", KoreanSamples.Documents());

        using var response = await _client.PutAsJsonAsync("/v1/collections/model-change", new { embedding = new { provider = "hashing", settings = new { Dimensions = "512" } } });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("never mixes", (await response.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_provider_or_backend_is_refused_naming_the_field()
    {
        using var provider = await _client.PutAsJsonAsync("/v1/collections/unknown-plugin", new { embedding = new { provider = "nope" } });
        using var backend = await _client.PutAsJsonAsync("/v1/collections/unknown-plugin", new { vectorBackend = "nope" });

        Assert.Equal(HttpStatusCode.BadRequest, provider.StatusCode);
        Assert.True((await provider.ProblemAsync()).GetProperty("errors").TryGetProperty("embedding.provider", out _));
        Assert.Equal(HttpStatusCode.BadRequest, backend.StatusCode);
        Assert.True((await backend.ProblemAsync()).GetProperty("errors").TryGetProperty("vectorBackend", out _));
    }
}
