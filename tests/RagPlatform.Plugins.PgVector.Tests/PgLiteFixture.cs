using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.PgVector.Tests;

/// <summary>One in-memory PGlite server for every test class of the collection (each test uses collections of its own).</summary>
public sealed class PgLiteFixture : IAsyncLifetime
{
    private PgLiteServer? _server;

    public PgLiteServer Server => _server ?? throw new InvalidOperationException("The PGlite server is not started.");

    public async Task InitializeAsync() => _server = await PgLiteServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A backend on the shared server; tests may raise ef_search so HNSW is exhaustive on their few hundred points.</summary>
    public PgVectorBackend CreateBackend(int efSearch = 400, string schema = "rag_vectors") =>
        new(new PgVectorOptions { Schema = schema, HnswEfSearch = efSearch, BatchSize = 200, ExportPageSize = 150 }, Server.ConnectionString, NullLogger<PgVectorBackend>.Instance);
}

/// <summary>Test classes sharing the PGlite server run one after another (PGlite answers one client at a time).</summary>
[CollectionDefinition(Name)]
public sealed class PgLiteCollection : ICollectionFixture<PgLiteFixture>
{
    public const string Name = "pglite";
}

internal static class PgTestData
{
    public static ModelFingerprint Fingerprint(int dimensions, string model = "random") => new("test", model, "1", dimensions, "none", "l2");

    public static PointPayload Payload(string documentId, IReadOnlyList<string>? tags = null) =>
        new(documentId, null, "text of " + documentId, tags ?? [], PointPayload.NoMetadata, "sha256:" + documentId, 0);

    public static float[][] UnitVectors(int seed, int count, int dimensions)
    {
        var random = new Random(seed);
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var vector = new float[dimensions];
            for (var j = 0; j < dimensions; j++)
            {
                vector[j] = (float)((random.NextDouble() * 2) - 1);
            }

            VectorMath.NormalizeInPlace(vector);
            vectors[i] = vector;
        }

        return vectors;
    }

    public static string[] ExactTopK(float[] query, float[][] vectors, int k, Func<int, bool>? keep = null) =>
        [.. Enumerable.Range(0, vectors.Length)
            .Where(i => keep is null || keep(i))
            .Select(i => (Id: PointId(i), Score: Dot(query, vectors[i])))
            .OrderByDescending(x => x.Score)
            .Take(k)
            .Select(x => x.Id)];

    public static string PointId(int i) => $"p{i:D5}";

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }
}
