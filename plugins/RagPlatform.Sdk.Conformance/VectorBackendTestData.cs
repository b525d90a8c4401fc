using System.Text.Json;
using RagPlatform.Sdk;
using Xunit;

namespace RagPlatform.Sdk.Conformance;

/// <summary>Seeded data and reference arithmetic for <see cref="VectorBackendConformanceTests"/>.</summary>
internal static class VectorBackendTestData
{
    /// <summary>Korean with a non-BMP character, so encodings that mangle UTF-8 or surrogate pairs show up.</summary>
    public const string KoreanText = "검색 증강 생성은 문서를 조각내어 임베딩한 뒤 질문과 가까운 조각을 찾습니다. 🚀 \"인용\"\n줄바꿈";

    public static ModelFingerprint Fingerprint(int dimensions, string model = "conformance-model") =>
        new("conformance", model, "1", dimensions, "mean", "l2");

    public static float[][] RandomVectors(int seed, int count, int dimensions)
    {
        var random = new Random(seed);
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            vectors[i] = RandomVector(random, dimensions);
        }

        return vectors;
    }

    public static float[] RandomVector(Random random, int dimensions)
    {
        var vector = new float[dimensions];
        for (var j = 0; j < dimensions; j++)
        {
            vector[j] = (float)((random.NextDouble() * 2) - 1);
        }

        return vector;
    }

    /// <summary>The score the contract defines, in double precision: higher is closer for every metric.</summary>
    public static double ReferenceScore(DistanceMetric metric, float[] query, float[] point)
    {
        double dot = 0, queryNorm = 0, pointNorm = 0, squared = 0;
        for (var i = 0; i < query.Length; i++)
        {
            dot += (double)query[i] * point[i];
            queryNorm += (double)query[i] * query[i];
            pointNorm += (double)point[i] * point[i];
            var difference = (double)query[i] - point[i];
            squared += difference * difference;
        }

        return metric switch
        {
            DistanceMetric.Cosine => queryNorm == 0 || pointNorm == 0 ? 0 : dot / Math.Sqrt(queryNorm * pointNorm),
            DistanceMetric.DotProduct => dot,
            DistanceMetric.Euclidean => -Math.Sqrt(squared),
            _ => throw new ArgumentOutOfRangeException(nameof(metric)),
        };
    }

    /// <summary>Brute-force top k of the points passing <paramref name="filter"/>, best first.</summary>
    public static List<(string Id, double Score)> ReferenceTopK(
        DistanceMetric metric,
        float[] query,
        IReadOnlyList<VectorPoint> points,
        int k,
        VectorFilter? filter = null) =>
        points
            .Where(p => filter is null || filter.Matches(p.Payload))
            .Select(p => (p.Id, Score: ReferenceScore(metric, query, p.Vector)))
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Id, StringComparer.Ordinal)
            .Take(k)
            .ToList();

    /// <summary>True when the reference ranking has no near-ties among its first k+1 places, so the expected order is unambiguous.</summary>
    public static bool HasClearRanking(DistanceMetric metric, float[] query, IReadOnlyList<VectorPoint> points, int k, VectorFilter? filter = null)
    {
        var ranked = ReferenceTopK(metric, query, points, k + 1, filter);
        for (var i = 1; i < ranked.Count; i++)
        {
            if (ranked[i - 1].Score - ranked[i].Score < 1e-3 * Math.Max(1, Math.Abs(ranked[i].Score)))
            {
                return false;
            }
        }

        return true;
    }

    public static PointPayload Payload(
        string documentId,
        string text,
        IReadOnlyList<string>? tags = null,
        IReadOnlyDictionary<string, JsonElement>? metadata = null,
        int ordinal = 0,
        string? title = null) =>
        new(documentId, title, text, tags ?? [], metadata ?? PointPayload.NoMetadata, "sha256:" + documentId + ":" + ordinal, ordinal);

    /// <summary>A JSON scalar spelled exactly as given (e.g. "12.0" stays 12.0).</summary>
    public static JsonElement Json(string raw) => JsonElement.Parse(raw);

    public static Dictionary<string, JsonElement> Metadata(params (string Key, string RawJson)[] entries) =>
        entries.ToDictionary(e => e.Key, e => Json(e.RawJson), StringComparer.Ordinal);

    public static void AssertPayloadEqual(PointPayload expected, PointPayload actual)
    {
        Assert.Equal(expected.DocumentId, actual.DocumentId);
        Assert.Equal(expected.Title, actual.Title);
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.Tags, actual.Tags);
        Assert.Equal(expected.ContentHash, actual.ContentHash);
        Assert.Equal(expected.Ordinal, actual.Ordinal);
        Assert.Equal(
            expected.Metadata.Keys.OrderBy(k => k, StringComparer.Ordinal),
            actual.Metadata.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (key, value) in expected.Metadata)
        {
            var stored = actual.Metadata[key];
            Assert.Equal(value.ValueKind, stored.ValueKind);
            Assert.True(JsonElement.DeepEquals(value, stored), $"Metadata '{key}': expected {value.GetRawText()}, got {stored.GetRawText()}.");
        }
    }

    public static void AssertScoreClose(double expected, float actual, string id) =>
        Assert.True(
            Math.Abs(expected - actual) <= 1e-3 * Math.Max(1, Math.Abs(expected)),
            $"Score of '{id}': expected {expected}, got {actual}.");

    public static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return list;
    }

    public static async IAsyncEnumerable<T> AsAsync<T>(IEnumerable<T> source)
    {
        foreach (var item in source)
        {
            await Task.Yield();
            yield return item;
        }
    }
}
