using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.Pinecone.Tests;

/// <summary>
/// The SDK's backend contract against the Pinecone plugin talking HTTP to our Pinecone emulator on loopback. A
/// contract test: it shows the plugin's requests and its reading of the documented answers are right, not that a
/// real Pinecone service answers identically (it is a paid cloud service; tests never leave loopback).
/// </summary>
public sealed class PineconeConformanceTests : VectorBackendConformanceTests
{
    private PineconeContractServer? _server;

    protected override async Task<IVectorBackend> CreateBackendAsync()
    {
        _server ??= await PineconeContractServer.StartAsync();
        // Small request limit, so the conformance data also crosses batch boundaries.
        return _server.CreateBackend(SmallBatches());
    }

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) =>
        Task.FromResult<IVectorBackend?>(_server!.CreateBackend());

    private static PineconeOptions SmallBatches()
    {
        var options = PineconeContractServer.Options();
        options.MaxRequestBytes = 64 * 1024;
        options.MaxBatchRecords = 100;
        options.ListPageSize = 7;
        options.FetchBatchSize = 5;
        return options;
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
