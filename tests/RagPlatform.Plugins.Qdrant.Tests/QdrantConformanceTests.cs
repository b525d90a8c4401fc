using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Qdrant.Tests;

/// <summary>
/// The SDK's backend contract against the Qdrant plugin talking HTTP to our Qdrant emulator on loopback. A
/// contract test: it shows the plugin's requests and its reading of the documented answers are right, not that a
/// real Qdrant server answers identically (none can run here).
/// </summary>
public sealed class QdrantConformanceTests : VectorBackendConformanceTests
{
    private QdrantContractServer? _server;

    protected override async Task<IVectorBackend> CreateBackendAsync()
    {
        _server ??= await QdrantContractServer.StartAsync();
        // Small request limit, so the conformance data also crosses batch boundaries.
        return _server.CreateBackend(new QdrantOptions { MaxRequestBytes = 64 * 1024, MaxBatchPoints = 100, ScrollPageSize = 7 });
    }

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) =>
        Task.FromResult<IVectorBackend?>(_server!.CreateBackend());

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
