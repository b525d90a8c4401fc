using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Faiss.Tests;

/// <summary>The SDK's backend contract against an exact FAISS index (IndexFlat), which can remove ids in place.</summary>
public sealed class FaissFlatConformanceTests : VectorBackendConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IVectorBackend> CreateBackendAsync() => Task.FromResult<IVectorBackend>(new FaissVectorBackend(Options()));

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) => Task.FromResult<IVectorBackend?>(new FaissVectorBackend(Options()));

    public void Dispose() => _directory.Dispose();

    private FaissVectorOptions Options() => FaissTestSupport.Options(_directory.Path, "Flat");
}

/// <summary>
/// The same contract against HNSW32, which cannot remove (deletes become tombstones and rebuilds). The kit
/// compares with exact search on at most 600 points; efSearch 256 makes the graph search exhaustive there,
/// so its exact-equality checks hold without a tolerance hook (the kit has none).
/// </summary>
public sealed class FaissHnswConformanceTests : VectorBackendConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IVectorBackend> CreateBackendAsync() => Task.FromResult<IVectorBackend>(new FaissVectorBackend(Options()));

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) => Task.FromResult<IVectorBackend?>(new FaissVectorBackend(Options()));

    public void Dispose() => _directory.Dispose();

    private FaissVectorOptions Options() => FaissTestSupport.Options(_directory.Path, "HNSW32,Flat", efSearch: 256);
}
