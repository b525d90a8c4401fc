using System.ClientModel;
using System.Net.Http.Json;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;

namespace RagPlatform.Embedding.Tests;

/// <summary>The official OpenAI .NET SDK, pointed at the worker's base URL over loopback HTTP, gets embeddings back.</summary>
public sealed class OpenAiClientTests(LoopbackWorker worker) : IClassFixture<LoopbackWorker>
{
    [Theory]
    [InlineData("hashing")]
    [InlineData("onnx")]
    public async Task OpenAiSdkGetsOneEmbeddingPerInputInOrder(string model)
    {
        var client = Client(model);
        string[] inputs = ["주택담보대출 금리", "검진 전날 금식", "The quick brown fox"];

        // The SDK asks for base64 and decodes it; the float path is covered below with raw HTTP.
        var response = await client.GenerateEmbeddingsAsync(inputs);

        var embeddings = response.Value;
        Assert.Equal(inputs.Length, embeddings.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(i, embeddings[i].Index);
            var vector = embeddings[i].ToFloats();
            Assert.True(vector.Length > 0);
            var single = (await client.GenerateEmbeddingAsync(inputs[i])).Value.ToFloats();
            Assert.Equal(single.ToArray(), vector.ToArray());
        }

        Assert.True(embeddings.Usage.InputTokenCount > 0);
        Assert.Equal(embeddings.Usage.InputTokenCount, embeddings.Usage.TotalTokenCount);
        Assert.Equal(model, embeddings.Model);
    }

    [Fact]
    public async Task UnknownModelIsAClientErrorTheSdkReports()
    {
        var client = Client("no-such-model");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateEmbeddingAsync("텍스트"));

        Assert.Equal(400, error.Status);
    }

    [Fact]
    public async Task FloatAndBase64EncodingsCarryTheSameVector()
    {
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };

        var floats = await (await http.PostAsJsonAsync("/v1/embeddings", new { model = "hashing", input = "같은 벡터" })).Content.ReadFromJsonAsync<JsonElement>();
        var base64 = await (await http.PostAsJsonAsync("/v1/embeddings", new { model = "hashing", input = new[] { "같은 벡터" }, encoding_format = "base64" })).Content.ReadFromJsonAsync<JsonElement>();

        var expected = floats.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var decoded = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(
            Convert.FromBase64String(base64.GetProperty("data")[0].GetProperty("embedding").GetString()!)).ToArray();
        Assert.Equal(expected, decoded);
        Assert.Equal("list", floats.GetProperty("object").GetString());
        Assert.True(floats.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task ModelsListAndStatusReportTheServedModels()
    {
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };
        await Client("onnx").GenerateEmbeddingAsync("상태 확인");

        var models = await http.GetFromJsonAsync<JsonElement>("/v1/models");
        var status = await http.GetFromJsonAsync<JsonElement>("/v1/models/onnx/status");

        var ids = models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains("hashing", ids);
        Assert.Contains("onnx", ids);
        Assert.True(status.GetProperty("loaded").GetBoolean());
        Assert.True(status.GetProperty("loadTimeMs").GetDouble() >= 0);
        Assert.True(status.GetProperty("processMemoryBytes").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, status.GetProperty("lastError").ValueKind);
        Assert.Equal(1, status.GetProperty("threads").GetInt32());
        // ONNX Runtime from the Microsoft.ML.OnnxRuntime package, its native library resolved in the plugin's load context.
        Assert.StartsWith("onnxruntime 1.32", status.GetProperty("runtime").GetString(), StringComparison.Ordinal);
        Assert.Equal("cpu", status.GetProperty("device").GetString());
        Assert.StartsWith("onnx/tiny-bert@", status.GetProperty("fingerprint").GetString(), StringComparison.Ordinal);
    }

    private EmbeddingClient Client(string model) =>
        new(model, new ApiKeyCredential("unused-by-the-worker"), new OpenAIClientOptions { Endpoint = new Uri(worker.BaseAddress, "/v1") });
}
