using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.EmbeddedVectors.Tests;

/// <summary>The blocked dot-product kernels and the scan built on them stay exact: same top-k as a naive reference.</summary>
public sealed class ExactScanTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(383)]
    [InlineData(384)]
    [InlineData(1024)]
    public unsafe void Score_AnyDimension_MatchesADoublePrecisionReference(int dimensions)
    {
        var random = new Random(dimensions);
        const int rows = 37; // not a multiple of the four rows scored per pass
        var query = RandomVector(random, dimensions);
        var store = RandomVector(random, rows * dimensions);
        var scores = new float[rows];
        fixed (float* q = query)
        fixed (float* r = store)
        fixed (float* s = scores)
        {
            DotKernel.Score(q, r, dimensions, rows, s);
        }

        for (var i = 0; i < rows; i++)
        {
            double exact = 0, magnitude = 0;
            for (var j = 0; j < dimensions; j++)
            {
                exact += (double)query[j] * store[(i * dimensions) + j];
                magnitude += Math.Abs((double)query[j] * store[(i * dimensions) + j]);
            }

            Assert.InRange(scores[i], exact - (1e-6 * (magnitude + 1)), exact + (1e-6 * (magnitude + 1)));
        }
    }

    [Theory]
    [InlineData(5, 1, 1)]
    [InlineData(383, 9, 65)]
    [InlineData(384, 4, 64)]
    [InlineData(384, 7, 3)]
    [InlineData(17, 3, 2)]
    public unsafe void ScoreMany_EveryQuery_IsBitIdenticalToScoringItAlone(int dimensions, int queryCount, int rows)
    {
        var random = new Random(dimensions + queryCount);
        var queries = RandomVector(random, queryCount * dimensions);
        var store = RandomVector(random, rows * dimensions);
        var stride = rows + 3;
        var many = new float[queryCount * stride];
        var alone = new float[rows];
        fixed (float* q = queries)
        fixed (float* r = store)
        fixed (float* m = many)
        fixed (float* a = alone)
        {
            DotKernel.ScoreMany(q, queryCount, r, dimensions, rows, m, stride);
            for (var query = 0; query < queryCount; query++)
            {
                DotKernel.Score(q + (query * dimensions), r, dimensions, rows, a);
                Assert.Equal(alone, many.AsSpan(query * stride, rows).ToArray());
            }
        }
    }

    [Theory]
    [InlineData(383, DistanceMetric.Cosine, 0)]
    [InlineData(384, DistanceMetric.DotProduct, int.MaxValue)]
    [InlineData(31, DistanceMetric.Cosine, int.MaxValue)]
    public async Task Search_RandomData_ReturnsTheNaiveTopKIncludingFiltersAndDeletes(int dimensions, DistanceMetric metric, int parallelSearchThreshold)
    {
        var random = new Random(dimensions);
        var points = Enumerable.Range(0, 2500).Select(i => Point(random, $"p{i:D4}", dimensions, i % 5 == 0 ? ["fifth"] : [])).ToList();
        using var collection = Collection(dimensions, metric, parallelSearchThreshold, batch: false);
        await collection.UpsertAsync(points, CancellationToken.None);
        var deleted = points.Where((_, i) => i % 11 == 0).Select(p => p.Id).ToHashSet();
        await collection.DeleteAsync([.. deleted], CancellationToken.None);
        var live = points.Where(p => !deleted.Contains(p.Id)).ToList();

        for (var q = 0; q < 8; q++)
        {
            var query = RandomVector(random, dimensions);
            var filter = q % 2 == 0 ? null : new VectorFilter(["fifth"], PointPayload.NoMetadata);
            var hits = collection.Search(new VectorQuery(query, 10, filter), CancellationToken.None);
            var expected = Naive(live.Where(p => filter is null || p.Payload.Tags.Contains("fifth")), query, metric, 10);
            Assert.Equal(expected, hits.Select(h => h.Id));
        }
    }

    [Theory]
    [InlineData(383, DistanceMetric.Cosine, 0)]
    [InlineData(1024, DistanceMetric.Cosine, int.MaxValue)]
    [InlineData(64, DistanceMetric.DotProduct, int.MaxValue)]
    public async Task Search_BFloat16Prefilter_ReturnsTheSameHitsAndScoresAsTheFullScan(int dimensions, DistanceMetric metric, int parallelSearchThreshold)
    {
        // Near-duplicates (one base vector plus tiny noise) put many scores within the prefilter's error bound of each other.
        var random = new Random(dimensions + 1);
        var basis = RandomVector(random, dimensions);
        var points = Enumerable.Range(0, 2000).Select(i =>
        {
            var scale = metric == DistanceMetric.DotProduct ? 0.01f + (i % 7) : 1f;
            var vector = i % 2 == 0
                ? basis.Select(x => scale * (x + ((float)random.NextDouble() * 1e-4f))).ToArray()
                : RandomVector(random, dimensions).Select(x => scale * x).ToArray();
            return new VectorPoint($"p{i:D4}", vector, Point(random, "unused", 1, i % 3 == 0 ? ["third"] : []).Payload);
        }).ToList();
        using var prefiltered = Collection(dimensions, metric, parallelSearchThreshold, batch: false, prefilter: true, folder: "on");
        using var full = Collection(dimensions, metric, parallelSearchThreshold, batch: false, prefilter: false, folder: "off");
        await prefiltered.UpsertAsync(points, CancellationToken.None);
        await full.UpsertAsync(points, CancellationToken.None);
        var deleted = points.Where((_, i) => i % 13 == 0).Select(p => p.Id).ToArray();
        await prefiltered.DeleteAsync(deleted, CancellationToken.None);
        await full.DeleteAsync(deleted, CancellationToken.None);

        var queries = new[] { basis, RandomVector(random, dimensions), basis.Select(x => -x).ToArray() };
        foreach (var query in queries)
        {
            foreach (var k in new[] { 1, 10, 100, 5000 })
            {
                foreach (var filter in new[] { null, new VectorFilter(["third"], PointPayload.NoMetadata) })
                {
                    var expected = full.Search(new VectorQuery(query, k, filter), CancellationToken.None);
                    var actual = prefiltered.Search(new VectorQuery(query, k, filter), CancellationToken.None);
                    Assert.Equal(expected.Select(h => (h.Id, h.Score)), actual.Select(h => (h.Id, h.Score)));
                }
            }
        }
    }

    [Fact]
    public async Task Search_FilterMatchingFewerThanK_ReturnsAllMatchesAndKWhenEnoughMatch()
    {
        var random = new Random(3);
        var points = Enumerable.Range(0, 3000).Select(i => Point(random, $"p{i:D4}", 48, i % 1000 == 7 ? ["rare"] : ["common"])).ToList();
        using var collection = Collection(48, DistanceMetric.Cosine, 0, batch: true);
        await collection.UpsertAsync(points, CancellationToken.None);
        var query = RandomVector(random, 48);

        Assert.Equal(3, (await collection.SearchAsync(new VectorQuery(query, 10, new VectorFilter(["rare"], PointPayload.NoMetadata)), CancellationToken.None)).Count);
        Assert.Equal(10, (await collection.SearchAsync(new VectorQuery(query, 10, new VectorFilter(["common"], PointPayload.NoMetadata)), CancellationToken.None)).Count);
    }

    private EmbeddedCollection Collection(int dimensions, DistanceMetric metric, int parallelSearchThreshold, bool batch, bool prefilter = true, string folder = "scan")
    {
        var spec = new VectorCollectionSpec("scan", dimensions, metric, new ModelFingerprint("test", "model", "1", dimensions, "mean", "l2"));
        var options = new EmbeddedVectorOptions
        {
            Path = _directory.Path,
            ParallelSearchThreshold = parallelSearchThreshold,
            BatchConcurrentSearches = batch,
            BFloat16Prefilter = prefilter,
        };
        var directory = Directory.CreateDirectory(Path.Combine(_directory.Path, folder)).FullName;
        return new EmbeddedCollection(spec, directory, options, NullLogger.Instance);
    }

    /// <summary>Top-k by a double-precision score (cosine normalised in double), ties by ordinal id.</summary>
    private static List<string> Naive(IEnumerable<VectorPoint> points, float[] query, DistanceMetric metric, int k)
    {
        double Norm(float[] v) => metric == DistanceMetric.Cosine ? Math.Sqrt(v.Sum(x => (double)x * x)) : 1;
        var queryNorm = Norm(query);
        return [.. points
            .Select(p => (p.Id, Score: p.Vector.Select((x, j) => (double)x * query[j]).Sum() / (Norm(p.Vector) * queryNorm)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.Id, StringComparer.Ordinal)
            .Take(k).Select(s => s.Id)];
    }

    internal static float[] RandomVector(Random random, int length) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2) - 1))];

    internal static VectorPoint Point(Random random, string id, int dimensions, IReadOnlyList<string> tags) =>
        new(id, RandomVector(random, dimensions), new PointPayload("doc-" + id, null, "text", tags, new Dictionary<string, JsonElement>(), "hash", 0));
}
