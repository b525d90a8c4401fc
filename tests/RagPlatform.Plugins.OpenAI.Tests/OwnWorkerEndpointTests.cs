using System.Net.Http.Json;
using System.Text.Json;
using RagPlatform.Hosting;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.OpenAI.Tests;

/// <summary>The OpenAI SDK path against RagPlatform's own OpenAI-compatible endpoint, over a real loopback socket.</summary>
public sealed class OwnWorkerEndpointTests
{
    [Fact]
    public async Task The_provider_embeds_through_a_RagPlatform_worker_exactly_as_its_own_endpoint_answers()
    {
        var data = Path.Combine(Path.GetTempPath(), "rag-openai-own-" + Guid.NewGuid().ToString("N"));
        var builder = StandaloneHost.CreateBuilder(
            ["--urls=http://127.0.0.1:0", $"--RagPlatform:DataDirectory={data}", "--Logging:LogLevel:Default=Warning"]);
        var app = StandaloneHost.Build(builder);
        await app.StartAsync();
        try
        {
            var baseUrl = app.Urls.First();
            await using var provider = new OpenAIEmbeddingProvider(new OpenAIEmbedderOptions
            {
                Endpoint = baseUrl + "/v1",
                Model = "hashing",
                Dimensions = 1024,
            });
            string[] inputs = ["대한민국의 수도는 서울이다.", "Retrieval-augmented generation", "주택담보대출 금리"];

            // The SDK asks for base64; the endpoint's float answer for the same text must be the same vector.
            var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
            using var response = await http.PostAsJsonAsync("/v1/embeddings", new { model = "hashing", input = inputs, encoding_format = "float" });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();

            for (var i = 0; i < inputs.Length; i++)
            {
                Assert.True(results[i].Succeeded, results[i].Error);
                var direct = body.GetProperty("data")[i].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                Assert.Equal(direct.Length, results[i].Vector!.Length);
                Assert.All(direct.Zip(results[i].Vector!), p => Assert.Equal(p.First, p.Second, 1e-5f));
            }

            Assert.Equal("openai/hashing@1;dim=1024;pool=provider;norm=l2", provider.Fingerprint.ToString());
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // A temp directory left behind fails no test.
            }
        }
    }
}
