using System.Text.Json;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.EmbeddedVectors.Tests;

/// <summary>What the embedded backend promises beyond the shared contract: its files, recovery and scan.</summary>
public sealed class EmbeddedVectorBackendTests : IDisposable
{
    private const string Collection = "docs";
    private readonly TempDirectory _directory = new();
    private readonly CancellationToken _ct = CancellationToken.None;

    public void Dispose() => _directory.Dispose();

    // ---- persistence and recovery ------------------------------------------------------------------------

    [Fact]
    public async Task Reopen_AfterManyWritesDeletesAndReplacements_RestoresExactlyTheFinalState()
    {
        var expected = new Dictionary<string, VectorPoint>();
        await using (var backend = Open())
        {
            await EnsureAsync(backend, 12, DistanceMetric.DotProduct);
            var random = new Random(1);
            for (var batch = 0; batch < 60; batch++)
            {
                var points = Enumerable.Range(0, 50).Select(i => RandomPoint(random, $"p{batch:D2}-{i:D2}", 12, $"doc{batch % 9}")).ToArray();
                await backend.UpsertAsync(Collection, points, _ct);
                points.ToList().ForEach(p => expected[p.Id] = p);

                var doomed = points.Where((_, i) => i % 7 == 0).Select(p => p.Id).ToArray();
                await backend.DeleteAsync(Collection, doomed, _ct);
                doomed.ToList().ForEach(id => expected.Remove(id));

                var replaced = RandomPoint(random, points[1].Id, 12, "moved");
                await backend.UpsertAsync(Collection, [replaced], _ct);
                expected[replaced.Id] = replaced;
            }

            var removed = await backend.DeleteByDocumentAsync(Collection, "doc4", _ct);
            Assert.Equal(expected.Values.Count(p => p.Payload.DocumentId == "doc4"), removed);
            expected.Values.Where(p => p.Payload.DocumentId == "doc4").Select(p => p.Id).ToList().ForEach(id => expected.Remove(id));
        }

        await using (var reopened = Open())
        {
            await AssertHoldsExactlyAsync(reopened, expected);
            Assert.Equal(expected.Values.Count(p => p.Payload.DocumentId == "moved"), await reopened.DeleteByDocumentAsync(Collection, "moved", _ct));
        }
    }

    [Fact]
    public async Task Open_StoreWrittenBeforeTheJournal_RestoresItAndRewritesItAsAJournal()
    {
        var source = System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "legacy-stores", "embedded");
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = System.IO.Path.Combine(_directory.Path, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        await using (var backend = Open())
        {
            // p1-p3 from the old snapshot; p4 and the delete of p2 from the old log.
            Assert.Equal(3, await backend.CountAsync(Collection, null, _ct));
            var points = await backend.RetrieveAsync(Collection, ["p1", "p2", "p3", "p4"], _ct);
            Assert.Equal(["p1", "p3", "p4"], points.Select(p => p.Id).Order(StringComparer.Ordinal));
            Assert.Equal([0f, 0f, 0f, 1f], points.Single(p => p.Id == "p4").Vector);
            var hits = await backend.SearchAsync(Collection, new VectorQuery([0f, 0f, 1f, 0f], 1), _ct);
            Assert.Equal("p3", Assert.Single(hits).Id);
            Assert.Equal("본문 d3", hits[0].Payload.Text);
            Assert.False(File.Exists(System.IO.Path.Combine(CollectionFolder, "snapshot.bin")));
            Assert.False(File.Exists(System.IO.Path.Combine(CollectionFolder, "log.bin")));
            Assert.True(File.Exists(System.IO.Path.Combine(CollectionFolder, EmbeddedCollection.SnapshotFileName)));
            await backend.DeleteAsync(Collection, ["p1"], _ct);
        }

        await using var reopened = Open();
        Assert.Equal(["p3", "p4"], (await reopened.RetrieveAsync(Collection, ["p1", "p3", "p4"], _ct)).Select(p => p.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Reopen_AfterCrashWithoutFinalSnapshot_ReplaysTheLog()
    {
        var expected = new Dictionary<string, VectorPoint>();
        var crashed = Open();
        await EnsureAsync(crashed, 8, DistanceMetric.Euclidean);
        var random = new Random(2);
        for (var batch = 0; batch < 10; batch++)
        {
            var points = Enumerable.Range(0, 20).Select(i => RandomPoint(random, $"c{batch}-{i}", 8, "doc")).ToArray();
            await crashed.UpsertAsync(Collection, points, _ct);
            points.ToList().ForEach(p => expected[p.Id] = p);
        }

        await crashed.DeleteAsync(Collection, ["c0-0", "c9-19"], _ct);
        expected.Remove("c0-0");
        expected.Remove("c9-19");
        crashed.Abandon();

        Assert.False(File.Exists(Path.Combine(CollectionFolder, EmbeddedCollection.SnapshotFileName)));
        await using var reopened = Open();
        await AssertHoldsExactlyAsync(reopened, expected);
    }

    [Fact]
    public async Task Reopen_WithTornLastLogRecord_IgnoresItKeepsEarlierBatchesAndAcceptsNewWrites()
    {
        var random = new Random(3);
        var first = Enumerable.Range(0, 10).Select(i => RandomPoint(random, $"a{i}", 8, "doc")).ToArray();
        var second = Enumerable.Range(0, 10).Select(i => RandomPoint(random, $"b{i}", 8, "doc")).ToArray();
        var torn = Enumerable.Range(0, 10).Select(i => RandomPoint(random, $"c{i}", 8, "doc")).ToArray();
        var crashed = Open();
        await EnsureAsync(crashed, 8, DistanceMetric.DotProduct);
        await crashed.UpsertAsync(Collection, first, _ct);
        await crashed.UpsertAsync(Collection, second, _ct);
        var goodLength = new FileInfo(LogPath).Length;
        await crashed.UpsertAsync(Collection, torn, _ct);
        crashed.Abandon();

        // A crash in the middle of the last append leaves it short.
        using (var log = new FileStream(LogPath, FileMode.Open))
        {
            log.SetLength(log.Length - 5);
        }

        var later = Enumerable.Range(0, 5).Select(i => RandomPoint(random, $"d{i}", 8, "doc")).ToArray();
        var reopened = Open();
        await AssertHoldsExactlyAsync(reopened, first.Concat(second).ToDictionary(p => p.Id));
        Assert.Equal(goodLength, new FileInfo(LogPath).Length);
        await reopened.UpsertAsync(Collection, later, _ct);
        reopened.Abandon();

        await using var again = Open();
        await AssertHoldsExactlyAsync(again, first.Concat(second).Concat(later).ToDictionary(p => p.Id));
    }

    [Fact]
    public async Task Reopen_WithCorruptedByteInLastLogRecord_FailsItsChecksumAndIgnoresIt()
    {
        var random = new Random(4);
        var kept = Enumerable.Range(0, 10).Select(i => RandomPoint(random, $"k{i}", 8, "doc")).ToArray();
        var crashed = Open();
        await EnsureAsync(crashed, 8, DistanceMetric.DotProduct);
        await crashed.UpsertAsync(Collection, kept, _ct);
        await crashed.UpsertAsync(Collection, [RandomPoint(random, "lost", 8, "doc")], _ct);
        crashed.Abandon();

        var bytes = File.ReadAllBytes(LogPath);
        bytes[^3] ^= 0x5A;
        File.WriteAllBytes(LogPath, bytes);

        await using var reopened = Open();
        await AssertHoldsExactlyAsync(reopened, kept.ToDictionary(p => p.Id));
    }

    [Fact]
    public async Task Compaction_WhenLogPassesTheThreshold_SnapshotsTruncatesTheLogAndKeepsEveryPoint()
    {
        var expected = new Dictionary<string, VectorPoint>();
        var backend = Open(compactAfterLogBytes: 4096);
        await EnsureAsync(backend, 32, DistanceMetric.Cosine);
        var collection = backend.GetCollectionForTesting(Collection);
        var random = new Random(5);
        var compactions = 0;
        for (var batch = 0; batch < 40; batch++)
        {
            var before = collection.LogLength;
            var points = Enumerable.Range(0, 10).Select(i => RandomPoint(random, $"p{batch}-{i}", 32, $"doc{batch % 4}")).ToArray();
            await backend.UpsertAsync(Collection, points, _ct);
            compactions += collection.LogLength < before ? 1 : 0;
            points.ToList().ForEach(p => expected[p.Id] = p);
            if (batch % 5 == 4)
            {
                await backend.DeleteByDocumentAsync(Collection, $"doc{batch % 4}", _ct);
                expected.Values.Where(p => p.Payload.DocumentId == $"doc{batch % 4}").Select(p => p.Id).ToList().ForEach(id => expected.Remove(id));
            }
        }

        Assert.True(compactions >= 5, $"expected repeated compactions, saw {compactions}");
        Assert.True(File.Exists(Path.Combine(CollectionFolder, EmbeddedCollection.SnapshotFileName)));
        Assert.True(new FileInfo(LogPath).Length < 4096 + 16_384, "the log is cut back after each snapshot");
        Assert.Equal(expected.Count, await backend.CountAsync(Collection, null, _ct));

        // Cosine vectors are stored normalised; what matters is that a restart returns the same ones.
        var stored = (await backend.RetrieveAsync(Collection, [.. expected.Keys], _ct)).ToDictionary(p => p.Id);
        backend.Abandon();

        await using var reopened = Open();
        await AssertHoldsExactlyAsync(reopened, stored);
    }

    [Fact]
    public async Task Reopen_AfterCrashBetweenSnapshotAndLogReset_DoesNotReplayTheSupersededLog()
    {
        var random = new Random(6);
        var points = Enumerable.Range(0, 10).Select(i => RandomPoint(random, $"s{i}", 8, "doc")).ToArray();
        var crashed = Open();
        await EnsureAsync(crashed, 8, DistanceMetric.DotProduct);
        await crashed.UpsertAsync(Collection, points, _ct);
        crashed.Abandon();
        var staleLog = File.ReadAllBytes(LogPath);

        // The next run deletes a point and snapshots twice (a write and then dispose).
        await using (var next = Open())
        {
            await next.DeleteAsync(Collection, ["s0"], _ct);
        }

        // As if the crash came after the snapshot rename but before the log was emptied: the old log is back.
        File.WriteAllBytes(LogPath, staleLog);

        await using var reopened = Open();
        await AssertHoldsExactlyAsync(reopened, points.Skip(1).ToDictionary(p => p.Id));
    }

    [Fact]
    public async Task Open_WithDamagedSnapshot_FailsOnlyThatCollection()
    {
        await using (var backend = Open())
        {
            await EnsureAsync(backend, 8, DistanceMetric.DotProduct);
            await backend.EnsureCollectionAsync(Spec("healthy", 8, DistanceMetric.DotProduct), _ct);
            await backend.UpsertAsync(Collection, [RandomPoint(new Random(7), "x", 8, "doc")], _ct);
            await backend.UpsertAsync("healthy", [RandomPoint(new Random(8), "y", 8, "doc")], _ct);
        }

        var snapshot = Path.Combine(CollectionFolder, EmbeddedCollection.SnapshotFileName);
        var bytes = File.ReadAllBytes(snapshot);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(snapshot, bytes);

        await using var reopened = Open();
        await Assert.ThrowsAsync<InvalidDataException>(() => reopened.CountAsync(Collection, null, _ct));
        Assert.Equal(1, await reopened.CountAsync("healthy", null, _ct));
    }

    [Fact]
    public async Task Reopen_MetadataNumberSpellings_AreKeptExactly()
    {
        var metadata = new Dictionary<string, JsonElement>
        {
            ["year"] = JsonElement.Parse("12.0"),
            ["ratio"] = JsonElement.Parse("1.50e-3"),
            ["big"] = JsonElement.Parse("123456789012345678901234567890"),
        };
        await using (var backend = Open())
        {
            await EnsureAsync(backend, 2, DistanceMetric.DotProduct);
            await backend.UpsertAsync(Collection, [new VectorPoint("m", [1, 2], Payload("doc", metadata))], _ct);
        }

        await using var reopened = Open();
        var stored = Assert.Single(await reopened.RetrieveAsync(Collection, ["m"], _ct)).Payload.Metadata;
        Assert.Equal("12.0", stored["year"].GetRawText());
        Assert.Equal("1.50e-3", stored["ratio"].GetRawText());
        Assert.Equal("123456789012345678901234567890", stored["big"].GetRawText());
    }

    // ---- files and lifetime ------------------------------------------------------------------------------

    [Fact]
    public async Task DeleteCollection_RemovesItsFolderAndLeavesOthers()
    {
        await using (var backend = Open())
        {
            await EnsureAsync(backend, 4, DistanceMetric.Cosine);
            await backend.EnsureCollectionAsync(Spec("other", 4, DistanceMetric.Cosine), _ct);
            await backend.UpsertAsync(Collection, [RandomPoint(new Random(9), "a", 4, "doc")], _ct);

            await backend.DeleteCollectionAsync(Collection, _ct);

            Assert.False(Directory.Exists(CollectionFolder));
            Assert.Equal(["other"], Directory.GetDirectories(_directory.Path).Select(Path.GetFileName));
        }

        await using var reopened = Open();
        Assert.Null(await reopened.GetCollectionAsync(Collection, _ct));
        Assert.NotNull(await reopened.GetCollectionAsync("other", _ct));
    }

    [Theory]
    [InlineData("Mixed Case/../names")]
    [InlineData("한국어 컬렉션")]
    [InlineData("a-very-long-name-that-goes-on-and-on-and-on-past-the-sixty-four-character-limit")]
    public async Task EnsureCollection_NameThatIsNotASafeFileName_IsStoredInAnEscapedFolderAndReopens(string name)
    {
        await using (var backend = Open())
        {
            await backend.EnsureCollectionAsync(Spec(name, 4, DistanceMetric.Cosine), _ct);
            await backend.UpsertAsync(name, [RandomPoint(new Random(10), "a", 4, "doc")], _ct);
        }

        var folder = Assert.Single(Directory.GetDirectories(_directory.Path));
        Assert.StartsWith("~", Path.GetFileName(folder), StringComparison.Ordinal);
        await using var reopened = Open();
        Assert.Equal(Spec(name, 4, DistanceMetric.Cosine), await reopened.GetCollectionAsync(name, _ct));
        Assert.Equal(1, await reopened.CountAsync(name, null, _ct));
    }

    [Fact]
    public async Task Open_SecondBackendOnTheSameFolder_ThrowsUntilTheFirstIsDisposed()
    {
        var first = Open();

        Assert.Throws<IOException>(() => Open());

        await first.DisposeAsync();
        await using var second = Open();
    }

    [Fact]
    public async Task Reopen_ExistingCollectionWithDifferentSpec_StillThrowsMismatch()
    {
        await using (var backend = Open())
        {
            await EnsureAsync(backend, 4, DistanceMetric.Cosine);
        }

        await using var reopened = Open();
        await Assert.ThrowsAsync<VectorCollectionMismatchException>(
            () => reopened.EnsureCollectionAsync(Spec(Collection, 4, DistanceMetric.DotProduct), _ct));
    }

    [Fact]
    public async Task Calls_AfterDispose_ThrowObjectDisposed()
    {
        var backend = Open();
        await EnsureAsync(backend, 4, DistanceMetric.Cosine);
        await backend.DisposeAsync();
        await backend.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => backend.CountAsync(Collection, null, _ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => backend.EnsureCollectionAsync(Spec("new", 4, DistanceMetric.Cosine), _ct));
    }

    // ---- search ------------------------------------------------------------------------------------------

    [Fact]
    public async Task Search_EqualScores_AreOrderedByOrdinalId()
    {
        await using var backend = Open();
        await EnsureAsync(backend, 3, DistanceMetric.DotProduct);
        string[] ids = ["b", "a", "c", "B", "aa", "A"];
        await backend.UpsertAsync(Collection, [.. ids.Select(id => new VectorPoint(id, [1, 1, 1], Payload("doc")))], _ct);

        var hits = await backend.SearchAsync(Collection, new VectorQuery([1, 2, 3], 4), _ct);

        Assert.Equal(["A", "B", "a", "aa"], hits.Select(h => h.Id));
    }

    [Fact]
    public async Task Search_ParallelAndSequentialScans_ReturnIdenticalHits()
    {
        var random = new Random(11);
        var points = Enumerable.Range(0, 3000).Select(i => RandomPoint(random, $"p{i:D4}", 64, $"doc{i % 10}", i % 3 == 0 ? ["third"] : [])).ToArray();
        var queries = Enumerable.Range(0, 5).Select(_ => RandomVector(random, 64)).ToArray();
        await using (var sequential = Open(parallelSearchThreshold: int.MaxValue))
        {
            await EnsureAsync(sequential, 64, DistanceMetric.Cosine);
            await sequential.UpsertAsync(Collection, points, _ct);
        }

        var results = new List<IReadOnlyList<VectorSearchHit>>[2];
        for (var run = 0; run < 2; run++)
        {
            await using var backend = Open(parallelSearchThreshold: run == 0 ? int.MaxValue : 0);
            results[run] = [];
            foreach (var query in queries)
            {
                results[run].Add(await backend.SearchAsync(Collection, new VectorQuery(query, 25), _ct));
                results[run].Add(await backend.SearchAsync(Collection, new VectorQuery(query, 25, new VectorFilter(["third"], PointPayload.NoMetadata)), _ct));
            }
        }

        for (var i = 0; i < results[0].Count; i++)
        {
            Assert.Equal(25, results[0][i].Count);
            Assert.Equal(results[0][i].Select(h => (h.Id, h.Score)), results[1][i].Select(h => (h.Id, h.Score)));
        }
    }

    [Fact]
    public async Task Search_QueryWithWrongDimensionOrNaN_ThrowsInvalidVector()
    {
        await using var backend = Open();
        await EnsureAsync(backend, 4, DistanceMetric.Cosine);

        await Assert.ThrowsAsync<InvalidVectorException>(() => backend.SearchAsync(Collection, new VectorQuery([1, 2, 3], 5), _ct));
        await Assert.ThrowsAsync<InvalidVectorException>(() => backend.SearchAsync(Collection, new VectorQuery([1, float.NaN, 3, 4], 5), _ct));
    }

    [Fact]
    public async Task Upsert_CosineCollection_StoresUnitVectorsAndKeepsZeroVectorsAtZero()
    {
        await using var backend = Open();
        await EnsureAsync(backend, 4, DistanceMetric.Cosine);
        await backend.UpsertAsync(Collection, [new("long", [3, 4, 0, 0], Payload("doc")), new("zero", [0, 0, 0, 0], Payload("doc"))], _ct);

        var stored = (await backend.RetrieveAsync(Collection, ["long", "zero"], _ct)).ToDictionary(p => p.Id);
        Assert.Equal([0.6f, 0.8f, 0, 0], stored["long"].Vector);
        Assert.Equal([0f, 0, 0, 0], stored["zero"].Vector);

        var hits = await backend.SearchAsync(Collection, new VectorQuery([30, 40, 0, 0], 2), _ct);
        Assert.Equal(("long", 1f), (hits[0].Id, hits[0].Score), new ScoreComparer());
        Assert.Equal(("zero", 0f), (hits[1].Id, hits[1].Score));
    }

    [Fact]
    public async Task Upsert_AfterDeletingMostPoints_ReusesSlotsAndSearchStaysExact()
    {
        var random = new Random(12);
        var points = Enumerable.Range(0, 10_000).Select(i => RandomPoint(random, $"p{i:D5}", 8, $"doc{i % 100}")).ToList();
        var backend = Open();
        await EnsureAsync(backend, 8, DistanceMetric.Euclidean);
        await backend.UpsertAsync(Collection, points, _ct);

        var doomed = points.Where((_, i) => i % 5 != 0).Select(p => p.Id).ToArray();
        Assert.Equal(8000, await backend.DeleteAsync(Collection, doomed, _ct));
        var added = Enumerable.Range(0, 3000).Select(i => RandomPoint(random, $"n{i:D5}", 8, "new")).ToList();
        await backend.UpsertAsync(Collection, added, _ct);

        var expected = points.Where((_, i) => i % 5 == 0).Concat(added).ToDictionary(p => p.Id);
        var query = RandomVector(random, 8);
        var reference = expected.Values
            .OrderBy(p => p.Vector.Zip(query, (a, b) => (double)(a - b) * (a - b)).Sum())
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .Take(20)
            .Select(p => p.Id);
        Assert.Equal(reference, (await backend.SearchAsync(Collection, new VectorQuery(query, 20), _ct)).Select(h => h.Id));
        backend.Abandon();

        await using var reopened = Open();
        await AssertHoldsExactlyAsync(reopened, expected);
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private string CollectionFolder => Path.Combine(_directory.Path, Collection);

    private string LogPath => Path.Combine(CollectionFolder, EmbeddedCollection.LogFileName);

    private EmbeddedVectorBackend Open(long compactAfterLogBytes = EmbeddedVectorOptions.DefaultCompactAfterLogBytes, int parallelSearchThreshold = 1000) =>
        new(new EmbeddedVectorOptions
        {
            Path = _directory.Path,
            CompactAfterLogBytes = compactAfterLogBytes,
            ParallelSearchThreshold = parallelSearchThreshold,
        });

    private static VectorCollectionSpec Spec(string name, int dimensions, DistanceMetric metric) =>
        new(name, dimensions, metric, new ModelFingerprint("test", "model", "1", dimensions, "mean", "l2"));

    private Task EnsureAsync(EmbeddedVectorBackend backend, int dimensions, DistanceMetric metric) =>
        backend.EnsureCollectionAsync(Spec(Collection, dimensions, metric), _ct);

    private static PointPayload Payload(string documentId, IReadOnlyDictionary<string, JsonElement>? metadata = null, IReadOnlyList<string>? tags = null) =>
        new(documentId, "제목", "본문 " + documentId, tags ?? [], metadata ?? PointPayload.NoMetadata, "hash", 0);

    private static float[] RandomVector(Random random, int dimensions) =>
        [.. Enumerable.Range(0, dimensions).Select(_ => (float)((random.NextDouble() * 2) - 1))];

    private static VectorPoint RandomPoint(Random random, string id, int dimensions, string documentId, IReadOnlyList<string>? tags = null) =>
        new(id, RandomVector(random, dimensions), Payload(documentId, new Dictionary<string, JsonElement> { ["n"] = JsonElement.Parse(random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture)) }, tags));

    private async Task AssertHoldsExactlyAsync(EmbeddedVectorBackend backend, IReadOnlyDictionary<string, VectorPoint> expected)
    {
        Assert.Equal(expected.Count, await backend.CountAsync(Collection, null, _ct));
        var exported = new List<VectorPoint>();
        await foreach (var point in backend.ExportAsync(Collection, _ct))
        {
            exported.Add(point);
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), exported.Select(p => p.Id));
        foreach (var actual in exported)
        {
            var wanted = expected[actual.Id];
            Assert.Equal(wanted.Vector, actual.Vector);
            Assert.Equal(wanted.Payload.DocumentId, actual.Payload.DocumentId);
            Assert.Equal(wanted.Payload.Text, actual.Payload.Text);
            Assert.Equal(wanted.Payload.Tags, actual.Payload.Tags);
            Assert.Equal(
                wanted.Payload.Metadata.Select(m => (m.Key, m.Value.GetRawText())),
                actual.Payload.Metadata.Select(m => (m.Key, m.Value.GetRawText())));
        }
    }

    private sealed class ScoreComparer : IEqualityComparer<(string Id, float Score)>
    {
        public bool Equals((string Id, float Score) x, (string Id, float Score) y) => x.Id == y.Id && Math.Abs(x.Score - y.Score) < 1e-6;

        public int GetHashCode((string Id, float Score) obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
