using System.Reflection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Plugins.HashingEmbedder;
using RagPlatform.Plugins.Onnx;
using RagPlatform.Sdk;

namespace RagPlatform.Extensions.AI.Tests;

/// <summary>The platform's own providers, created by their plugin entry points, used through IEmbeddingGenerator.</summary>
public sealed class EmbeddingGeneratorTests
{
    private static readonly string[] Texts = ["은행 주택담보대출 금리가 올랐다", "축구 경기에서 홈팀이 이겼다", "건강검진 전날에는 금식해야 해요"];

    [Fact]
    public async Task The_hashing_provider_embeds_through_IEmbeddingGenerator_with_its_fingerprint_and_token_usage()
    {
        await using var provider = await CreateAsync(new HashingEmbedderPlugin(), []);
        using var generator = provider.AsEmbeddingGenerator();

        var embeddings = await generator.GenerateAsync(Texts);

        await AssertSameAsProviderAsync(provider, generator, embeddings);
    }

    [Fact]
    public async Task The_onnx_provider_embeds_through_IEmbeddingGenerator_with_its_fingerprint_and_token_usage()
    {
        await using var provider = await CreateAsync(new OnnxEmbedderPlugin(), new()
        {
            ["ModelPath"] = typeof(EmbeddingGeneratorTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TinyBertModel").Value,
            ["IntraOpThreads"] = "1",
        });
        using var generator = provider.AsEmbeddingGenerator();

        var embeddings = await generator.GenerateAsync(Texts);

        Assert.StartsWith("onnx/", generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId, StringComparison.Ordinal);
        await AssertSameAsProviderAsync(provider, generator, embeddings);
    }

    [Fact]
    public async Task A_query_purpose_and_a_wrong_dimension_count_are_passed_and_refused()
    {
        await using var provider = await CreateAsync(new HashingEmbedderPlugin(), []);
        using var generator = provider.AsEmbeddingGenerator();

        var query = await generator.GenerateAsync(["금리"], new EmbeddingGenerationOptions { AdditionalProperties = new() { ["purpose"] = "query" } });
        var expected = await provider.EmbedAsync(["금리"], EmbeddingPurpose.Query, CancellationToken.None);

        Assert.Equal(expected[0].Vector, query[0].Vector.ToArray());
        await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["금리"], new EmbeddingGenerationOptions { Dimensions = 7 }));
    }

    [Fact]
    public async Task An_input_the_provider_refuses_fails_the_call_naming_its_position()
    {
        await using var provider = new RefusingProvider("거절");
        using var generator = provider.AsEmbeddingGenerator();

        var refused = await Assert.ThrowsAsync<EmbeddingInputException>(() => generator.GenerateAsync(["좋음", "거절", "좋음"]));

        Assert.Equal(1, refused.Index);
        Assert.Contains("input[1]", refused.Message, StringComparison.Ordinal);
    }

    private static async Task AssertSameAsProviderAsync(
        IEmbeddingProvider provider, IEmbeddingGenerator<string, Embedding<float>> generator, GeneratedEmbeddings<Embedding<float>> embeddings)
    {
        var direct = await provider.EmbedAsync(Texts, EmbeddingPurpose.Document, CancellationToken.None);
        var fingerprint = provider.Fingerprint.ToString();

        Assert.Equal(fingerprint, generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
        Assert.Equal(provider.Fingerprint.Dimensions, generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);
        Assert.Equal(Texts.Length, embeddings.Count);
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(fingerprint, embeddings[i].ModelId);
            Assert.Equal(direct[i].Vector, embeddings[i].Vector.ToArray());
        }

        Assert.Equal(direct.Sum(r => r.Tokens), embeddings.Usage!.InputTokenCount);
        Assert.True(embeddings.Usage.InputTokenCount > 0);
    }

    private static ValueTask<IEmbeddingProvider> CreateAsync(IEmbeddingProviderPlugin plugin, Dictionary<string, string?> settings) =>
        plugin.CreateAsync(new PluginContext(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), NullLoggerFactory.Instance, Path.GetTempPath()), CancellationToken.None);

    /// <summary>A provider that refuses one text, as a real one refuses an over-long input.</summary>
    private sealed class RefusingProvider(string refused) : IEmbeddingProvider
    {
        public ModelFingerprint Fingerprint { get; } = new("test", "refusing", "1", 2, "none", "l2");

        public int MaxInputTokens => 100;

        public int MaxBatchSize => 10;

        public int CountTokens(string text) => text.Length;

        public Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(IReadOnlyList<string> inputs, EmbeddingPurpose purpose, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<EmbeddingResult>>([.. inputs.Select(t => t == refused ? EmbeddingResult.Failure("too long") : EmbeddingResult.Success([1, 0], 1))]);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
