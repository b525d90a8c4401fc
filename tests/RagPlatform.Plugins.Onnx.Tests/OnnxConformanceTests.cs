using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Onnx.Tests;

/// <summary>The provider contract on the fixture model (ONNX Runtime for real; the test tokenizer stands in for tokenizer.json).</summary>
public sealed class OnnxConformanceTests : EmbeddingProviderConformanceTests
{
    protected override Task<IEmbeddingProvider> CreateProviderAsync() =>
        Task.FromResult<IEmbeddingProvider>(OnnxTestSupport.Provider());
}

/// <summary>The same contract with a tiny token budget and no gathering window: every call splits into many runs.</summary>
public sealed class SmallBudgetOnnxConformanceTests : EmbeddingProviderConformanceTests
{
    protected override Task<IEmbeddingProvider> CreateProviderAsync() =>
        Task.FromResult<IEmbeddingProvider>(OnnxTestSupport.Provider(o =>
        {
            o.MaxBatchTokens = 32;
            o.BatchWindowMilliseconds = 0;
            o.MaxSequenceLength = 16;
        }));
}

/// <summary>The contract through the plugin entry point, as a host creates it: the fixture's own tokenizer.json (WordPiece).</summary>
public sealed class OnnxPluginConformanceTests : EmbeddingProviderConformanceTests, IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    protected override Task<IEmbeddingProvider> CreateProviderAsync() =>
        new OnnxEmbedderPlugin().CreateAsync(PluginContexts.FromSettings(
            new Dictionary<string, string?>
            {
                ["ModelPath"] = OnnxTestSupport.TinyBert,
                ["IntraOpThreads"] = "1",
            },
            _data.Path), default).AsTask();
}
