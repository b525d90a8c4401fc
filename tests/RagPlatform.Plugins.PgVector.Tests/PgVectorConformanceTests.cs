using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;

namespace RagPlatform.Plugins.PgVector.Tests;

/// <summary>
/// The SDK's backend contract against real pgvector 0.8.0 (PGlite). The kit compares with exact search on at
/// most 600 points; ef_search 400 makes the HNSW walk exhaustive there, so its exact checks hold.
/// Reopening is a new backend (new connection pool) on the same database.
/// </summary>
[Collection(PgLiteCollection.Name)]
public sealed class PgVectorConformanceTests(PgLiteFixture fixture) : VectorBackendConformanceTests
{
    protected override Task<IVectorBackend> CreateBackendAsync() => Task.FromResult<IVectorBackend>(fixture.CreateBackend());

    protected override Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) => Task.FromResult<IVectorBackend?>(fixture.CreateBackend());
}
