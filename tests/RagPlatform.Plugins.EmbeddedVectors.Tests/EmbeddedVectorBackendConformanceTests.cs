using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.EmbeddedVectors.Tests;

/// <summary>The SDK's backend contract, run against the embedded backend in a temporary folder.</summary>
public sealed class EmbeddedVectorBackendConformanceTests : VectorBackendConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IVectorBackend> CreateBackendAsync() =>
        Task.FromResult<IVectorBackend>(new EmbeddedVectorBackend(Options()));

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) =>
        Task.FromResult<IVectorBackend?>(new EmbeddedVectorBackend(Options()));

    public void Dispose() => _directory.Dispose();

    // A low parallel threshold so the partitioned scan is what the contract tests exercise.
    private EmbeddedVectorOptions Options() => new() { Path = _directory.Path, ParallelSearchThreshold = 100 };
}

/// <summary>The same contract with the sequential scan and fsync on every batch.</summary>
public sealed class EmbeddedVectorBackendSequentialConformanceTests : VectorBackendConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IVectorBackend> CreateBackendAsync() =>
        Task.FromResult<IVectorBackend>(new EmbeddedVectorBackend(Options()));

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) =>
        Task.FromResult<IVectorBackend?>(new EmbeddedVectorBackend(Options()));

    public void Dispose() => _directory.Dispose();

    private EmbeddedVectorOptions Options() => new()
    {
        Path = _directory.Path,
        ParallelSearchThreshold = int.MaxValue,
        FlushToDisk = true,
    };
}
