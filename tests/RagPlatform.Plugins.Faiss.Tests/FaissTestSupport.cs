using System.Reflection;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Faiss.Tests;

internal static class FaissTestSupport
{
    /// <summary>The shim scripts/test.sh builds (artifacts/native/libragfaiss.so), baked in by the csproj.</summary>
    public static string NativeLibrary { get; } = typeof(FaissTestSupport).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RagFaissNativeLibrary").Value!;

    public static FaissVectorOptions Options(string path, string factory, int efSearch = 128) => new()
    {
        Path = path,
        IndexFactory = factory,
        HnswEfSearch = efSearch,
        NativeLibraryPath = NativeLibrary,
    };

    public static ModelFingerprint Fingerprint(int dimensions) => new("test", "random", "1", dimensions, "none", "l2");

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

    /// <summary>Exact cosine top k of unit vectors, as point ids.</summary>
    public static string[] ExactTopK(float[] query, float[][] vectors, int k, Func<int, bool>? keep = null) =>
        [.. Enumerable.Range(0, vectors.Length)
            .Where(i => keep is null || keep(i))
            .Select(i => (Id: PointId(i), Score: Dot(query, vectors[i])))
            .OrderByDescending(x => x.Score)
            .Take(k)
            .Select(x => x.Id)];

    public static string PointId(int i) => $"p{i:D6}";

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
