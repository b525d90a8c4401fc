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
