using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;
using RagPlatform.Tokenizers;

namespace RagPlatform.Plugins.Onnx.Tests;

/// <summary>The reranker contract on the cross-encoder fixture (ONNX Runtime for real, the fixture's tokenizer.json).</summary>
public sealed class OnnxRerankerConformanceTests : RerankerConformanceTests
{
    protected override Task<IReranker> CreateRerankerAsync() => Task.FromResult<IReranker>(OnnxTestSupport.Reranker());
}

/// <summary>The same contract through the plugin entry point with a small token budget: 50 pairs split into many runs.</summary>
public sealed class SmallBudgetOnnxRerankerConformanceTests : RerankerConformanceTests, IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    protected override Task<IReranker> CreateRerankerAsync() =>
        new OnnxRerankerPlugin().CreateAsync(PluginContexts.FromSettings(
            new Dictionary<string, string?>
            {
                ["ModelPath"] = OnnxTestSupport.TinyCrossEncoder,
                ["IntraOpThreads"] = "1",
                ["MaxBatchTokens"] = "160",
                ["BatchWindowMilliseconds"] = "0",
            },
            _data.Path), default).AsTask();
}

public sealed class OnnxRerankerTests
{
    [Fact]
    public async Task PairsAreEncodedWithTheModelsPairTemplate()
    {
        var folder = ModelFolder.Open(OnnxTestSupport.TinyCrossEncoder);
        var tokenizer = TokenizerFile.Load(folder.TokenizerFile);

        var pair = tokenizer.EncodePair("검진", "금식 시간", 128);
        var query = tokenizer.Encode("검진", 128);
        var passage = tokenizer.Encode("금식 시간", 128);

        // [CLS] query [SEP] passage [SEP]; the passage and its [SEP] typed 1.
        Assert.Equal([.. query.InputIds, .. passage.InputIds[1..]], pair.InputIds);
        Assert.Equal([.. new int[query.Length], .. Enumerable.Repeat(1, passage.Length - 1)], pair.TypeIds);
        await using var reranker = OnnxTestSupport.Reranker();
        Assert.Equal("cpu", reranker.Device);
        Assert.StartsWith("onnxruntime 1.32", reranker.Runtime, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALongPassageIsTruncatedToTheModelsLengthAndStillScored()
    {
        await using var reranker = OnnxTestSupport.Reranker();
        var longPassage = string.Concat(Enumerable.Repeat(RerankerConformanceTests.Relevant + " ", 40));

        var scores = await reranker.ScoreAsync(RerankerConformanceTests.Query, [new RerankCandidate("long", null, longPassage)], CancellationToken.None);

        Assert.True(float.IsFinite(scores[0]));
        Assert.Equal(128, reranker.MaxSequenceLength);
    }

    [Fact]
    public async Task RerankersOfTheSameModelShareOneSession()
    {
        var before = SharedModels.LoadedCount;
        await using var first = OnnxTestSupport.Reranker();
        await using var second = OnnxTestSupport.Reranker(o => o.ModelId = "another-name");

        Assert.Equal(before + 1, SharedModels.LoadedCount);
        Assert.Same(first.Batcher, second.Batcher);
    }

    [Fact]
    public void RawLogitsAreAvailableWithoutTheSigmoid()
    {
        var problems = OnnxTestSupport.RerankerOptions(o => o.Activation = "softmax").Validate().ToList();

        Assert.Contains(problems, p => p.StartsWith("Activation", StringComparison.Ordinal));
    }

    [Fact]
    public void AnEmbeddingModelIsRefusedAsACrossEncoder()
    {
        var folder = ModelFolder.Open(OnnxTestSupport.TinyBert);

        var error = Assert.Throws<NotSupportedException>(() =>
            new OnnxReranker(OnnxTestSupport.RerankerOptions(o => o.ModelPath = OnnxTestSupport.TinyBert), folder, TokenizerFile.Load(folder.TokenizerFile)));

        Assert.Contains("cross-encoder", error.Message, StringComparison.Ordinal);
    }
}
