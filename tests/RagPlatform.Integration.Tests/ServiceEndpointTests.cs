using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace RagPlatform.Integration.Tests;

public sealed class ServiceEndpointTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task Health_endpoints_answer_healthy(string path)
    {
        Assert.Equal("Healthy", await _client.GetStringAsync(path));
    }

    [Fact]
    public async Task Metrics_are_exposed_in_prometheus_text()
    {
        await _client.IngestAsync("metrics", KoreanSamples.Documents());

        var text = await _client.GetStringAsync("/metrics");

        Assert.Contains("# TYPE ragplatform_chunks_total counter", text, StringComparison.Ordinal);
        Assert.Contains("ragplatform_chunks_total{outcome=\"embedded\"}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_endpoint_is_openai_compatible()
    {
        using var response = await _client.PostAsJsonAsync("/v1/embeddings", new { model = "hashing", input = new[] { "은행 금리", "축구" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal(2, body.GetProperty("data").GetArrayLength());
        Assert.Equal(1024, body.GetProperty("data")[0].GetProperty("embedding").GetArrayLength());
        Assert.True(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Base64_encoding_carries_the_same_floats()
    {
        var floats = await _client.PostAsJsonAsync("/v1/embeddings", new { model = "hashing", input = "은행 금리" });
        var base64 = await _client.PostAsJsonAsync("/v1/embeddings", new { model = "hashing", input = "은행 금리", encoding_format = "base64" });

        var expected = (await floats.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var bytes = Convert.FromBase64String((await base64.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("embedding").GetString()!);
        Assert.Equal(expected, MemoryMarshal.Cast<byte, float>(bytes).ToArray());
    }

    [Theory]
    [InlineData("""{"model": "nope", "input": "x"}""", "model")]
    [InlineData("""{"input": ""}""", "input")]
    [InlineData("""{"input": [1, 2]}""", "input[0]")]
    [InlineData("""{"input": "x", "encoding_format": "hex"}""", "encoding_format")]
    [InlineData("""{"input": "x", "dimensions": 7}""", "dimensions")]
    public async Task Bad_embedding_requests_are_400_naming_the_field(string body, string field)
    {
        using var response = await _client.PostAsync("/v1/embeddings", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ProblemAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Models_and_their_status_are_listed()
    {
        var models = await _client.GetFromJsonAsync<JsonElement>("/v1/models");
        var status = await _client.GetFromJsonAsync<JsonElement>("/v1/models/hashing/status");

        Assert.Contains(models.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "hashing");
        Assert.True(status.GetProperty("loaded").GetBoolean());
        Assert.StartsWith("hashing/", status.GetProperty("fingerprint").GetString(), StringComparison.Ordinal);
    }
}
