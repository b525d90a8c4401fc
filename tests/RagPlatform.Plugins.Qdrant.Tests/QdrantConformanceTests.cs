using RagPlatform.Plugins.Qdrant.Tests.Contract;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>
/// The SDK's backend contract against the Qdrant plugin talking gRPC (Qdrant.Client) to the contract server on
/// loopback. A contract test: it shows the plugin's calls and its reading of the answers are right for Qdrant's
/// documented semantics as the server models them, not that a real Qdrant server answers identically.
/// </summary>
public sealed class QdrantConformanceTests : VectorBackendConformanceTests
{
    private QdrantGrpcServer? _server;

    protected override async Task<IVectorBackend> CreateBackendAsync()
    {
        _server ??= await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);

        // A small request limit and batch size, so the conformance data also crosses batch boundaries.
        return QdrantTestSupport.Backend(_server, new QdrantOptions { MaxRequestBytes = 64 * 1024, MaxBatchPoints = 100, ScrollPageSize = 7 });
    }

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) =>
        Task.FromResult<IVectorBackend?>(QdrantTestSupport.Backend(_server!));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>Lexical (BM25 as sparse vectors with Qdrant's IDF) and hybrid (prefetch + RRF) search inside the contract server.</summary>
public sealed class QdrantHybridConformanceTests : HybridSearchConformanceTests
{
    private QdrantGrpcServer? _server;

    protected override LexicalAnalysis Lexical => QdrantTestSupport.Lexical;

    protected override async Task<IVectorBackend> CreateBackendAsync()
    {
        _server = await QdrantGrpcServer.StartAsync(QdrantTestSupport.ApiKey);
        return QdrantTestSupport.Backend(_server);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
