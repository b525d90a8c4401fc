using Microsoft.Extensions.AI;
using RagPlatform.Sdk;

namespace RagPlatform.Extensions.AI.Tests;

/// <summary>An IEmbeddingGenerator used as a platform provider: its failures are pinned to the inputs that caused them.</summary>
public sealed class EmbeddingGeneratorProviderTests
{
    private static readonly EmbeddingGeneratorProviderOptions Options = new() { Fingerprint = "test/model@1;dim=3;pool=mean;norm=l2", MaxBatchSize = 16 };

    [Fact]
    public async Task A_failing_input_fails_alone_and_the_others_keep_their_vectors()
    {
        using var generator = new PickyGenerator();
        await using var provider = new EmbeddingGeneratorProvider(generator, Options);
        string[] inputs = ["하나", "둘", "나쁜 입력", "셋", "넷", "다섯", "또 나쁜 입력"];

        var results = await provider.EmbedAsync(inputs, EmbeddingPurpose.Document, CancellationToken.None);

        Assert.Equal(inputs.Length, results.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            var bad = inputs[i].Contains("나쁜", StringComparison.Ordinal);
            Assert.Equal(!bad, results[i].Succeeded);
            if (bad)
            {
                Assert.Contains("refused", results[i].Error, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(PickyGenerator.VectorOf(inputs[i]), results[i].Vector);
            }
        }
    }

    [Fact]
    public async Task Reported_usage_is_shared_out_and_a_vector_of_another_size_fails_its_input()
    {
        using var generator = new PickyGenerator { ReportTokens = 30, WrongSizeFor = "짧은" };
        await using var provider = new EmbeddingGeneratorProvider(generator, Options);

        var results = await provider.EmbedAsync(["가나다", "짧은"], EmbeddingPurpose.Query, CancellationToken.None);

        Assert.True(results[0].Succeeded);
        Assert.False(results[1].Succeeded);
        Assert.Contains("dimensions", results[1].Error, StringComparison.Ordinal);
        // 30 reported tokens shared by the estimates (9 and 6 UTF-8 bytes at 2 bytes a token: 5 and 3).
        Assert.Equal(19, results[0].Tokens);
    }

    [Fact]
    public async Task Cancellation_cancels_instead_of_failing_inputs()
    {
        using var generator = new PickyGenerator();
        await using var provider = new EmbeddingGeneratorProvider(generator, Options);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => provider.EmbedAsync(["하나"], EmbeddingPurpose.Document, cancelled.Token));
    }

    [Theory]
    [InlineData(null, "Fingerprint is required")]
    [InlineData("not a fingerprint", "Fingerprint:")]
    public void A_missing_or_malformed_fingerprint_is_refused(string? fingerprint, string expected)
    {
        using var generator = new PickyGenerator();

        var error = Assert.Throws<PluginConfigurationException>(() => new EmbeddingGeneratorProvider(generator, new EmbeddingGeneratorProviderOptions { Fingerprint = fingerprint }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Fails a whole call when any input contains "나쁜", as a remote API refuses a batch for one bad input.</summary>
    private sealed class PickyGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public long? ReportTokens { get; init; }

        public string? WrongSizeFor { get; init; }

        public static float[] VectorOf(string text) => [text.Length, 1, 0];

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var list = values.ToList();
            if (list.Any(v => v.Contains("나쁜", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException("the service refused the batch");
            }

            var embeddings = new GeneratedEmbeddings<Embedding<float>>(list.Select(v => new Embedding<float>(v == WrongSizeFor ? new float[] { 1 } : VectorOf(v))));
            if (ReportTokens is { } tokens)
            {
                embeddings.Usage = new UsageDetails { InputTokenCount = tokens };
            }

            return Task.FromResult(embeddings);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
