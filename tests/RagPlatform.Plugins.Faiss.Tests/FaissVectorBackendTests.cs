using RagPlatform.Sdk;
using static RagPlatform.Plugins.Faiss.Tests.FaissTestSupport;

namespace RagPlatform.Plugins.Faiss.Tests;

/// <summary>What the conformance kit cannot see: approximate recall, tombstones and rebuilds, checkpoints and the log.</summary>
public sealed class FaissVectorBackendTests : IDisposable
{
    private const string Hnsw = "HNSW32,Flat";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Hnsw_RecallAt10_IsAtLeast095AgainstExactSearch()
    {
        const int dimensions = 64, count = 5000;
        var vectors = UnitVectors(1, count, dimensions);
        await using var backend = new FaissVectorBackend(Options(_directory.Path, Hnsw, efSearch: 64));
        var spec = await CollectionAsync(backend, "recall", dimensions);
        await backend.UpsertAsync(spec.Name, Points(vectors), CancellationToken.None);

        var queries = UnitVectors(2, 100, dimensions);
        var found = 0;
        foreach (var query in queries)
        {
            var expected = ExactTopK(query, vectors, 10);
            var hits = await backend.SearchAsync(spec.Name, new VectorQuery(query, 10), CancellationToken.None);
            found += hits.Count(h => expected.Contains(h.Id));
        }

        var recall = found / (double)(queries.Length * 10);
        Assert.True(recall >= 0.95, $"recall@10 was {recall:F3}");
    }

    [Fact]
    public async Task Hnsw_SelectiveFilter_StillReturnsKExactMatches()
    {
        const int dimensions = 32, count = 4000;
        var vectors = UnitVectors(3, count, dimensions);
        await using var backend = new FaissVectorBackend(Options(_directory.Path, Hnsw));
        var spec = await CollectionAsync(backend, "filter", dimensions);

        // 1 point in 100 carries the tag: the first oversampled search finds too few, the backend widens.
        var points = vectors.Select((v, i) => new VectorPoint(PointId(i), v, Payload("d" + i, i % 100 == 7 ? ["rare"] : ["common"]))).ToArray();
        await backend.UpsertAsync(spec.Name, points, CancellationToken.None);
        var filter = new VectorFilter(["rare"], PointPayload.NoMetadata);

        foreach (var query in UnitVectors(4, 10, dimensions))
        {
            var hits = await backend.SearchAsync(spec.Name, new VectorQuery(query, 10, filter), CancellationToken.None);

            Assert.Equal(10, hits.Count);
            Assert.All(hits, h => Assert.Contains("rare", h.Payload.Tags));
            Assert.Equal(ExactTopK(query, vectors, 10, i => i % 100 == 7), hits.Select(h => h.Id));
        }

        // 1 in 4: answered from the index, still k results that all match.
        var common = new VectorFilter(["common"], PointPayload.NoMetadata);
        var commonHits = await backend.SearchAsync(spec.Name, new VectorQuery(vectors[0], 25, common), CancellationToken.None);
        Assert.Equal(25, commonHits.Count);
        Assert.All(commonHits, h => Assert.Contains("common", h.Payload.Tags));
    }

    [Fact]
    public async Task Hnsw_Deletes_BecomeTombstonesThenTriggerARebuild()
    {
        const int dimensions = 16, count = 500;
        var vectors = UnitVectors(5, count, dimensions);
        var options = Options(_directory.Path, Hnsw, efSearch: 256);
        options.RebuildTombstoneFraction = 0.2;
        await using var backend = new FaissVectorBackend(options);
        var spec = await CollectionAsync(backend, "tombstones", dimensions);
        await backend.UpsertAsync(spec.Name, Points(vectors), CancellationToken.None);
        var collection = backend.GetForTests(spec.Name);

        // 50 of 500: under the threshold, the index keeps them and searches skip them.
        var firstDeletes = Enumerable.Range(0, 50).Select(PointId).ToArray();
        Assert.Equal(50, await backend.DeleteAsync(spec.Name, firstDeletes, CancellationToken.None));
        Assert.Equal((500L, 50), (collection.Diagnostics().IndexTotal, collection.Diagnostics().Tombstones));
        var hits = await backend.SearchAsync(spec.Name, new VectorQuery(vectors[0], 10), CancellationToken.None);
        Assert.Equal(10, hits.Count);
        Assert.DoesNotContain(hits, h => firstDeletes.Contains(h.Id));
        Assert.Equal(ExactTopK(vectors[0], vectors, 10, i => i >= 50), hits.Select(h => h.Id));

        // Another 60 pass 20% of the index: it is rebuilt from the live points.
        Assert.Equal(60, await backend.DeleteAsync(spec.Name, [.. Enumerable.Range(50, 60).Select(PointId)], CancellationToken.None));
        Assert.Equal((390L, 0), (collection.Diagnostics().IndexTotal, collection.Diagnostics().Tombstones));
        Assert.Equal(390, await backend.CountAsync(spec.Name, null, CancellationToken.None));
        hits = await backend.SearchAsync(spec.Name, new VectorQuery(vectors[200], 10), CancellationToken.None);
        Assert.Equal(ExactTopK(vectors[200], vectors, 10, i => i >= 110), hits.Select(h => h.Id));

        // A replaced vector is a delete plus an add: the new one is found, the old one is not.
        var moved = new VectorPoint(PointId(300), vectors[0], Payload("moved"));
        await backend.UpsertAsync(spec.Name, [moved], CancellationToken.None);
        hits = await backend.SearchAsync(spec.Name, new VectorQuery(vectors[0], 1), CancellationToken.None);
        Assert.Equal(PointId(300), Assert.Single(hits).Id);
        Assert.Equal(1, collection.Diagnostics().Tombstones);
    }

    [Fact]
    public async Task Flat_Deletes_RemoveFromTheIndexDirectly()
    {
        var vectors = UnitVectors(6, 100, 8);
        await using var backend = new FaissVectorBackend(Options(_directory.Path, "Flat"));
        var spec = await CollectionAsync(backend, "flat", 8);
        await backend.UpsertAsync(spec.Name, Points(vectors), CancellationToken.None);

        await backend.DeleteAsync(spec.Name, [PointId(1), PointId(2)], CancellationToken.None);

        Assert.Equal((98L, 0), (backend.GetForTests(spec.Name).Diagnostics().IndexTotal, backend.GetForTests(spec.Name).Diagnostics().Tombstones));
    }

    [Fact]
    public async Task Reopen_AfterDispose_LoadsTheCheckpointedIndexWithTombstones()
    {
        const int dimensions = 24;
        var vectors = UnitVectors(7, 800, dimensions);
        var options = Options(_directory.Path, Hnsw);
        IReadOnlyList<VectorSearchHit> before;
        await using (var backend = new FaissVectorBackend(options))
        {
            var spec = await CollectionAsync(backend, "persist", dimensions);
            await backend.UpsertAsync(spec.Name, Points(vectors), CancellationToken.None);
            await backend.DeleteAsync(spec.Name, [PointId(5), PointId(6)], CancellationToken.None);
            before = await backend.SearchAsync(spec.Name, new VectorQuery(vectors[5], 10), CancellationToken.None);
        }

        var files = Directory.GetFiles(Path.Combine(_directory.Path, "persist")).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["collection.json", "index.1.faiss", "journal.log", "journal.snapshot"], files);

        await using (var reopened = new FaissVectorBackend(options))
        {
            var collection = reopened.GetForTests("persist");
            Assert.Equal((800L, 2, 1L), collection.Diagnostics());
            Assert.Equal(798, await reopened.CountAsync("persist", null, CancellationToken.None));
            var after = await reopened.SearchAsync("persist", new VectorQuery(vectors[5], 10), CancellationToken.None);
            Assert.Equal(before.Select(h => (h.Id, h.Score)), after.Select(h => (h.Id, h.Score)));
        }
    }

    [Fact]
    public async Task Open_StoreWrittenBeforeTheJournal_RestoresItAndRewritesItAsAJournal()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "fixtures", "legacy-stores", "faiss");
        var root = Path.Combine(_directory.Path, "legacy");
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(root, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        await using (var backend = new FaissVectorBackend(Options(root, "Flat")))
        {
            // p1-p3 from the old checkpoint; p4 and the delete of p2 from the old log.
            Assert.Equal(3, await backend.CountAsync("docs", null, CancellationToken.None));
            var points = await backend.RetrieveAsync("docs", ["p1", "p2", "p3", "p4"], CancellationToken.None);
            Assert.Equal(["p1", "p3", "p4"], points.Select(p => p.Id).Order(StringComparer.Ordinal));
            var hits = await backend.SearchAsync("docs", new VectorQuery([0f, 0f, 0f, 1f], 1), CancellationToken.None);
            Assert.Equal("p4", Assert.Single(hits).Id);
            var files = Directory.GetFiles(Path.Combine(root, "docs")).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal);
            Assert.Equal(["collection.json", "index.2.faiss", "journal.log", "journal.snapshot"], files);
            await backend.DeleteAsync("docs", ["p1"], CancellationToken.None);
        }

        await using var reopened = new FaissVectorBackend(Options(root, "Flat"));
        Assert.Equal(2, await reopened.CountAsync("docs", null, CancellationToken.None));
    }

    [Fact]
    public async Task Reopen_AfterACrash_ReplaysTheLogAndDropsATornTail()
    {
        const int dimensions = 16;
        var vectors = UnitVectors(8, 300, dimensions);
        var crashed = Path.Combine(_directory.Path, "crashed");
        await using (var backend = new FaissVectorBackend(Options(Path.Combine(_directory.Path, "live"), Hnsw)))
        {
            var spec = await CollectionAsync(backend, "log", dimensions);
            await backend.UpsertAsync(spec.Name, Points(vectors[..200]), CancellationToken.None);
            await backend.FlushAsync(CancellationToken.None);
            await backend.UpsertAsync(spec.Name, Points(vectors)[200..], CancellationToken.None);
            await backend.DeleteByDocumentAsync(spec.Name, "doc-3", CancellationToken.None);

            // Copying the files of a running backend is what a crash leaves: a checkpoint plus a log.
            Directory.CreateDirectory(Path.Combine(crashed, "log"));
            foreach (var file in Directory.GetFiles(Path.Combine(_directory.Path, "live", "log")))
            {
                File.Copy(file, Path.Combine(crashed, "log", Path.GetFileName(file)));
            }
        }

        await using (var log = new FileStream(Path.Combine(crashed, "log", RagPlatform.Sdk.Storage.Journal.LogFileName), FileMode.Append))
        {
            log.Write([200, 0, 0, 0, 1, 2, 3, 4, 1, 9]);
        }

        await using var reopened = new FaissVectorBackend(Options(crashed, Hnsw));
        Assert.Equal(299, await reopened.CountAsync("log", null, CancellationToken.None));
        Assert.Empty(await reopened.RetrieveAsync("log", [PointId(3)], CancellationToken.None));
        var hits = await reopened.SearchAsync("log", new VectorQuery(vectors[250], 1), CancellationToken.None);
        Assert.Equal(PointId(250), Assert.Single(hits).Id);

        // New writes follow the last complete record.
        await reopened.UpsertAsync("log", [new VectorPoint("extra", vectors[3], Payload("extra"))], CancellationToken.None);
        Assert.Equal(300, await reopened.CountAsync("log", null, CancellationToken.None));
    }

    [Fact]
    public async Task Create_WithBadFactoryString_ThrowsAFaissErrorAndCreatesNothing()
    {
        var options = Options(_directory.Path, "NoSuchIndex42");
        await using var backend = new FaissVectorBackend(options);

        var error = await Assert.ThrowsAsync<FaissException>(
            () => backend.EnsureCollectionAsync(new VectorCollectionSpec("bad", 8, DistanceMetric.Cosine, Fingerprint(8)), CancellationToken.None));

        Assert.Contains("NoSuchIndex42", error.Message, StringComparison.Ordinal);
        Assert.Null(await backend.GetCollectionAsync("bad", CancellationToken.None));
    }

    [Fact]
    public void Shim_UsesTheWidestSimdDistanceKernelsTheCpuHas()
    {
        var expected = System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "avx512"
            : System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported ? "avx2"
            : "scalar";
        Assert.Equal(expected, NativeFaiss.Load(NativeLibrary).DistanceKernels);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 100)]
    [InlineData(DistanceMetric.Cosine, 1024)]
    [InlineData(DistanceMetric.Euclidean, 37)]
    [InlineData(DistanceMetric.DotProduct, 8)]
    public async Task Hnsw_Scores_AreTheExactScoresOfTheHits(DistanceMetric metric, int dimensions)
    {
        // The shim's SIMD kernels (full vector registers, then a remainder) give the scores an exact scan gives.
        var vectors = UnitVectors(7, 300, dimensions);
        await using var backend = new FaissVectorBackend(Options(_directory.Path, Hnsw));
        var spec = new VectorCollectionSpec("scores", dimensions, metric, Fingerprint(dimensions));
        await backend.EnsureCollectionAsync(spec, CancellationToken.None);
        await backend.UpsertAsync(spec.Name, Points(vectors), CancellationToken.None);

        foreach (var query in UnitVectors(8, 10, dimensions))
        {
            var hits = await backend.SearchAsync(spec.Name, new VectorQuery(query, 5), CancellationToken.None);
            Assert.Equal(5, hits.Count);
            foreach (var hit in hits)
            {
                var vector = vectors[int.Parse(hit.Id.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)];
                var exact = metric == DistanceMetric.Euclidean
                    ? -System.Numerics.Tensors.TensorPrimitives.Distance(query, vector)
                    : System.Numerics.Tensors.TensorPrimitives.Dot(query, vector);
                Assert.Equal(exact, hit.Score, 1e-4f);
            }
        }
    }

    private static VectorPoint[] Points(float[][] vectors) =>
        [.. vectors.Select((v, i) => new VectorPoint(PointId(i), v, Payload("doc-" + i)))];

    private static async Task<VectorCollectionSpec> CollectionAsync(FaissVectorBackend backend, string name, int dimensions)
    {
        var spec = new VectorCollectionSpec(name, dimensions, DistanceMetric.Cosine, Fingerprint(dimensions));
        await backend.EnsureCollectionAsync(spec, CancellationToken.None);
        return spec;
    }
}
