using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Conformance;
using static RagPlatform.Plugins.PgVector.Tests.PgTestData;

namespace RagPlatform.Plugins.PgVector.Tests;

/// <summary>What pgvector adds to the contract: halfvec indexes for wide vectors, filtered HNSW searches, the catalog, configuration.</summary>
[Collection(PgLiteCollection.Name)]
public sealed class PgVectorBackendTests(PgLiteFixture fixture)
{
    [Fact]
    public async Task WideVectors_Above2000Dimensions_AreIndexedAsHalfvecButStoredAndRankedAtFullPrecision()
    {
        const int dimensions = 2100;
        await using var backend = fixture.CreateBackend();
        var name = "wide-" + Guid.NewGuid().ToString("N")[..8];
        await backend.EnsureCollectionAsync(new VectorCollectionSpec(name, dimensions, DistanceMetric.Cosine, Fingerprint(dimensions)), CancellationToken.None);
        var vectors = UnitVectors(21, 80, dimensions);
        var points = vectors.Select((v, i) => new VectorPoint(PointId(i), v, Payload("doc" + (i % 7)))).ToArray();
        await backend.UpsertAsync(name, points, CancellationToken.None);

        var indexDefinition = await ScalarAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE indexname = (SELECT table_name FROM rag_vectors.collections WHERE name = $1) || '_hnsw'", name);
        Assert.Contains("halfvec(2100)", indexDefinition, StringComparison.Ordinal);
        Assert.Contains("halfvec_cosine_ops", indexDefinition, StringComparison.Ordinal);

        var stored = (await backend.RetrieveAsync(name, [PointId(3)], CancellationToken.None)).Single();
        Assert.Equal(vectors[3], stored.Vector);
        foreach (var q in new[] { 0, 17, 55 })
        {
            var hits = await backend.SearchAsync(name, new VectorQuery(vectors[q], 10), CancellationToken.None);
            Assert.Equal(ExactTopK(vectors[q], vectors, 10), hits.Select(h => h.Id));
            Assert.Equal(1f, hits[0].Score, 4);
        }

        await backend.DeleteCollectionAsync(name, CancellationToken.None);
    }

    [Fact]
    public async Task WideVectors_ValueBeyondHalfPrecision_AreRejectedBeforeAnythingIsWritten()
    {
        const int dimensions = 2001;
        await using var backend = fixture.CreateBackend();
        var name = "wide-range-" + Guid.NewGuid().ToString("N")[..8];
        await backend.EnsureCollectionAsync(new VectorCollectionSpec(name, dimensions, DistanceMetric.DotProduct, Fingerprint(dimensions)), CancellationToken.None);
        var fine = UnitVectors(22, 1, dimensions)[0];
        var huge = (float[])fine.Clone();
        huge[5] = 70_000f;

        await Assert.ThrowsAsync<InvalidVectorException>(() => backend.UpsertAsync(
            name, [new VectorPoint("fine", fine, Payload("d")), new VectorPoint("huge", huge, Payload("d"))], CancellationToken.None));

        Assert.Equal(0, await backend.CountAsync(name, null, CancellationToken.None));
        await backend.DeleteCollectionAsync(name, CancellationToken.None);
    }

    [Fact]
    public async Task FilteredSearch_RareTagAmongThousandsWithSmallEfSearch_StillReturnsTheExactKMatches()
    {
        const int dimensions = 32, count = 3000;
        await using var backend = fixture.CreateBackend(efSearch: 20);
        var name = "rare-" + Guid.NewGuid().ToString("N")[..8];
        await backend.EnsureCollectionAsync(new VectorCollectionSpec(name, dimensions, DistanceMetric.Cosine, Fingerprint(dimensions)), CancellationToken.None);
        var vectors = UnitVectors(23, count, dimensions);
        bool IsRare(int i) => i % 200 == 7;
        await backend.ImportAsync(
            name,
            ToAsync(vectors.Select((v, i) => new VectorPoint(PointId(i), v, Payload("doc" + (i / 10), IsRare(i) ? ["rare"] : ["common"])))),
            CancellationToken.None);

        Assert.True(backend.UsesIterativeScan);
        var filter = new VectorFilter(["rare"], PointPayload.NoMetadata);
        Assert.Equal(15, await backend.CountAsync(name, filter, CancellationToken.None));
        foreach (var q in new[] { 1, 500, 2999 })
        {
            var hits = await backend.SearchAsync(name, new VectorQuery(vectors[q], 10, filter), CancellationToken.None);
            Assert.Equal(10, hits.Count);
            Assert.All(hits, h => Assert.Contains("rare", h.Payload.Tags));
            Assert.Equal(ExactTopK(vectors[q], vectors, 10, IsRare).Order(StringComparer.Ordinal), hits.Select(h => h.Id).Order(StringComparer.Ordinal));
        }

        await backend.DeleteCollectionAsync(name, CancellationToken.None);
    }

    [Fact]
    public async Task Export_PagesInIdOrder_AndReturnsEveryPointOnce()
    {
        await using var backend = fixture.CreateBackend();
        var name = "export-order-" + Guid.NewGuid().ToString("N")[..8];
        await backend.EnsureCollectionAsync(new VectorCollectionSpec(name, 4, DistanceMetric.Cosine, Fingerprint(4)), CancellationToken.None);
        var vectors = UnitVectors(24, 451, 4);
        var ids = Enumerable.Range(0, vectors.Length).Select(i => (i * 7919 % 451).ToString("D4", System.Globalization.CultureInfo.InvariantCulture) + "-점").ToArray();
        await backend.UpsertAsync(name, [.. vectors.Select((v, i) => new VectorPoint(ids[i], v, Payload("d")))], CancellationToken.None);

        var exported = new List<string>();
        await foreach (var point in backend.ExportAsync(name, CancellationToken.None))
        {
            exported.Add(point.Id);
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), exported);
        await backend.DeleteCollectionAsync(name, CancellationToken.None);
    }

    [Fact]
    public async Task EnsureCollection_FromAnotherBackendInstanceWithOtherModel_ThrowsMismatchFromTheCatalog()
    {
        var name = "catalog-" + Guid.NewGuid().ToString("N")[..8];
        await using (var first = fixture.CreateBackend())
        {
            await first.EnsureCollectionAsync(new VectorCollectionSpec(name, 8, DistanceMetric.Cosine, Fingerprint(8)), CancellationToken.None);
        }

        await using var second = fixture.CreateBackend();
        await Assert.ThrowsAsync<VectorCollectionMismatchException>(() => second.EnsureCollectionAsync(
            new VectorCollectionSpec(name, 8, DistanceMetric.Cosine, Fingerprint(8, "other-model")), CancellationToken.None));
        Assert.Equal(Fingerprint(8), (await second.GetCollectionAsync(name, CancellationToken.None))!.Fingerprint);
        await second.DeleteCollectionAsync(name, CancellationToken.None);
    }

    [Fact]
    public async Task Plugin_ReadsANamedConnectionStringAndNeverEchoesIt()
    {
        var plugin = new PgVectorBackendPlugin();
        var directory = Path.Combine(Path.GetTempPath(), "rag-pgvector-" + Guid.NewGuid().ToString("N"));
        try
        {
            var context = PluginContexts.FromSettings(
                new Dictionary<string, string?> { ["ConnectionName"] = "vectors", ["Schema"] = "rag_plugin", ["HnswEfSearch"] = "64" },
                directory,
                new Dictionary<string, string?> { ["vectors"] = fixture.Server.ConnectionString });
            await using (var backend = await plugin.CreateAsync(context, default))
            {
                var name = "plugin-" + Guid.NewGuid().ToString("N")[..8];
                await backend.EnsureCollectionAsync(new VectorCollectionSpec(name, 4, DistanceMetric.Cosine, Fingerprint(4)), CancellationToken.None);
                Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM rag_plugin.collections WHERE name = $1", name));
                await backend.DeleteCollectionAsync(name, CancellationToken.None);
            }

            var missing = PluginContexts.FromSettings(new Dictionary<string, string?> { ["ConnectionName"] = "absent" }, directory);
            var error = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await plugin.CreateAsync(missing, default));
            Assert.Contains("ConnectionStrings:absent", error.Message, StringComparison.Ordinal);

            var bad = PluginContexts.FromSettings(
                new Dictionary<string, string?> { ["ConnectionString"] = "Host=x;Password=hunter2", ["HnswM"] = "1", ["Schema"] = "Bad-Schema" }, directory);
            var invalid = await Assert.ThrowsAsync<PluginConfigurationException>(async () => await plugin.CreateAsync(bad, default));
            Assert.Contains("HnswM", invalid.Message, StringComparison.Ordinal);
            Assert.Contains("Schema", invalid.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", invalid.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<T> ScalarAsync<T>(string sql, string parameter)
    {
        // Unpooled: an idle pooled connection would keep one of PGlite's few client slots after the test.
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return (T)(await command.ExecuteScalarAsync())!;
    }

    internal static async IAsyncEnumerable<VectorPoint> ToAsync(IEnumerable<VectorPoint> points)
    {
        foreach (var point in points)
        {
            yield return point;
        }

        await Task.CompletedTask;
    }
}

/// <summary>A server that goes away and comes back (same port, same data directory): the backend reconnects by itself.</summary>
public sealed class PgVectorReconnectTests
{
    [Fact]
    public async Task Search_AfterTheServerRestarts_ReconnectsAndAnswersFromTheKeptData()
    {
        var directory = Path.Combine(Path.GetTempPath(), "rag-pglite-" + Guid.NewGuid().ToString("N"));
        await using var server = await PgLiteServer.StartAsync(directory);
        try
        {
            await using var backend = new PgVectorBackend(new PgVectorOptions(), server.ConnectionString, NullLogger<PgVectorBackend>.Instance);
            var vectors = UnitVectors(25, 50, 8);
            await backend.EnsureCollectionAsync(new VectorCollectionSpec("restart", 8, DistanceMetric.Cosine, Fingerprint(8)), CancellationToken.None);
            await backend.UpsertAsync("restart", [.. vectors.Select((v, i) => new VectorPoint(PointId(i), v, Payload("d")))], CancellationToken.None);
            var before = await backend.SearchAsync("restart", new VectorQuery(vectors[4], 5), CancellationToken.None);

            await server.RestartAsync();

            var after = await backend.SearchAsync("restart", new VectorQuery(vectors[4], 5), CancellationToken.None);
            Assert.Equal(before.Select(h => h.Id), after.Select(h => h.Id));
            Assert.Equal(50, await backend.CountAsync("restart", null, CancellationToken.None));
        }
        finally
        {
            await server.StopAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
