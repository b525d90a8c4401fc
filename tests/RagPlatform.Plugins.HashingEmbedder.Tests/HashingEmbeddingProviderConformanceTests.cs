using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.HashingEmbedder.Tests;

public sealed class HashingEmbeddingProviderConformanceTests : EmbeddingProviderConformanceTests
{
    protected override Task<IEmbeddingProvider> CreateProviderAsync() =>
        Task.FromResult<IEmbeddingProvider>(new HashingEmbeddingProvider(new HashingEmbedderOptions()));
}

/// <summary>The contract again at the smallest allowed size, where hash collisions are most frequent.</summary>
public sealed class SmallHashingEmbeddingProviderConformanceTests : EmbeddingProviderConformanceTests
{
    protected override Task<IEmbeddingProvider> CreateProviderAsync() =>
        Task.FromResult<IEmbeddingProvider>(new HashingEmbeddingProvider(new HashingEmbedderOptions
        {
            Dimensions = HashingEmbedderOptions.MinDimensions,
            MaxInputTokens = 64,
            MaxBatchSize = 8,
        }));
}
