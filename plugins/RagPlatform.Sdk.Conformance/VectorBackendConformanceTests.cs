using System.Diagnostics.CodeAnalysis;
using RagPlatform.Sdk;
using Xunit;
using static RagPlatform.Sdk.Conformance.VectorBackendTestData;

namespace RagPlatform.Sdk.Conformance;

/// <summary>
/// The <see cref="IVectorBackend"/> contract as tests. A backend's test project derives a class, implements
/// <see cref="CreateBackendAsync"/> (and <see cref="ReopenAsync"/> when the backend persists), and every
/// fact here runs against it. Each test works in collections of its own, so a shared server is fine.
/// </summary>
[SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "Test names read Method_Condition_Result; they show up in the plugin's test reports.")]
public abstract class VectorBackendConformanceTests : IAsyncLifetime
{
    private readonly List<string> _createdCollections = [];
    private IVectorBackend? _backend;

    /// <summary>The backend under test, created before each test and disposed after it.</summary>
    protected IVectorBackend Backend => _backend ?? throw new InvalidOperationException("The backend is not created yet.");

    /// <summary>A fresh, empty backend (or one whose other collections the tests can ignore).</summary>
    protected abstract Task<IVectorBackend> CreateBackendAsync();

    /// <summary>
    /// Opens the same store again after <paramref name="disposed"/> was disposed, or returns null when the
    /// backend does not persist; the persistence test then passes without checking anything.
    /// </summary>
    protected virtual Task<IVectorBackend?> ReopenAsync(IVectorBackend disposed) => Task.FromResult<IVectorBackend?>(null);

    public virtual async Task InitializeAsync() => _backend = await CreateBackendAsync();

    public virtual async Task DisposeAsync()
    {
        if (_backend is null)
        {
            return;
        }

        foreach (var name in _createdCollections)
        {
            try
            {
                await _backend.DeleteCollectionAsync(name, CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Cleanup is best effort; the test's own assertions have already run.
            }
        }

        await _backend.DisposeAsync();
        _backend = null;
    }

    // ---- collections -----------------------------------------------------------------------------------

    [Fact]
    public async Task EnsureCollection_NewName_CreatesCollectionWithSpec()
    {
        var name = NewName("ensure");
        Assert.Null(await Backend.GetCollectionAsync(name, CancellationToken.None));

        var spec = new VectorCollectionSpec(name, 8, DistanceMetric.DotProduct, Fingerprint(8));
        await EnsureAsync(spec);

        var stored = await Backend.GetCollectionAsync(name, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(spec.Name, stored.Name);
        Assert.Equal(spec.Dimensions, stored.Dimensions);
        Assert.Equal(spec.Metric, stored.Metric);
        Assert.Equal(spec.Fingerprint, stored.Fingerprint);
        Assert.Equal(0, await Backend.CountAsync(name, null, CancellationToken.None));
    }

    [Fact]
    public async Task EnsureCollection_SameSpecTwice_IsIdempotentAndKeepsPoints()
    {
        var spec = await NewCollectionAsync("ensure-twice", 4, DistanceMetric.Cosine);
        await Backend.UpsertAsync(spec.Name, [Point("a", [1, 0, 0, 0])], CancellationToken.None);

        await Backend.EnsureCollectionAsync(spec, CancellationToken.None);
        await Backend.EnsureCollectionAsync(spec with { Fingerprint = Fingerprint(4) }, CancellationToken.None);

        Assert.Equal(1, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
    }

    [Theory]
    [InlineData("dimensions")]
    [InlineData("metric")]
    [InlineData("fingerprint")]
    public async Task EnsureCollection_ExistingWithDifferentSpec_ThrowsMismatch(string difference)
    {
        var spec = await NewCollectionAsync("mismatch", 4, DistanceMetric.Cosine);
        var other = difference switch
        {
            "dimensions" => spec with { Dimensions = 5, Fingerprint = Fingerprint(5) },
            "metric" => spec with { Metric = DistanceMetric.Euclidean },
            _ => spec with { Fingerprint = Fingerprint(4, "another-model") },
        };

        await Assert.ThrowsAsync<VectorCollectionMismatchException>(() => Backend.EnsureCollectionAsync(other, CancellationToken.None));
        Assert.Equal(spec, await Backend.GetCollectionAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task DeleteCollection_Existing_RemovesItAndIsNoOpWhenRepeated()
    {
        var spec = await NewCollectionAsync("drop", 4, DistanceMetric.Cosine);
        await Backend.UpsertAsync(spec.Name, [Point("a", [1, 2, 3, 4])], CancellationToken.None);

        await Backend.DeleteCollectionAsync(spec.Name, CancellationToken.None);
        await Backend.DeleteCollectionAsync(spec.Name, CancellationToken.None);

        Assert.Null(await Backend.GetCollectionAsync(spec.Name, CancellationToken.None));
        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(() => Backend.CountAsync(spec.Name, null, CancellationToken.None));

        // The name can be used again, and starts empty.
        await Backend.EnsureCollectionAsync(spec, CancellationToken.None);
        Assert.Equal(0, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
    }

    // ---- writes ----------------------------------------------------------------------------------------

    [Fact]
    public async Task Upsert_NewPoints_CountReturnsHowManyWereWritten()
    {
        var spec = await NewCollectionAsync("count", 16, DistanceMetric.Cosine);
        var points = RandomPoints(seed: 1, count: 37, dimensions: 16);

        await Backend.UpsertAsync(spec.Name, points[..20], CancellationToken.None);
        await Backend.UpsertAsync(spec.Name, points[20..], CancellationToken.None);
        await Backend.UpsertAsync(spec.Name, [], CancellationToken.None);

        Assert.Equal(37, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
        Assert.Equal(37, await Backend.CountAsync(spec.Name, VectorFilter.None, CancellationToken.None));
    }

    [Fact]
    public async Task Upsert_SameIdsTwice_KeepsCountAndLatestPayloadAndVectorWin()
    {
        var spec = await NewCollectionAsync("idempotent", 8, DistanceMetric.DotProduct);
        var first = RandomPoints(seed: 2, count: 10, dimensions: 8);
        var second = RandomPoints(seed: 3, count: 10, dimensions: 8)
            .Select((p, i) => p with { Id = first[i].Id, Payload = Payload("doc-new", "새 버전 " + i, ["v2"], ordinal: i) })
            .ToArray();

        await Backend.UpsertAsync(spec.Name, first, CancellationToken.None);
        await Backend.UpsertAsync(spec.Name, second, CancellationToken.None);
        await Backend.UpsertAsync(spec.Name, second, CancellationToken.None);

        Assert.Equal(10, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
        var stored = (await Backend.RetrieveAsync(spec.Name, [.. first.Select(p => p.Id)], CancellationToken.None)).ToDictionary(p => p.Id);
        foreach (var expected in second)
        {
            Assert.Equal(expected.Vector, stored[expected.Id].Vector);
            AssertPayloadEqual(expected.Payload, stored[expected.Id].Payload);
        }

        // The old document no longer owns the points.
        Assert.Equal(0, await Backend.DeleteByDocumentAsync(spec.Name, first[0].Payload.DocumentId, CancellationToken.None));
        Assert.Equal(10, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_ByIds_RemovesOnlyThoseAndIgnoresUnknownIds()
    {
        var spec = await NewCollectionAsync("delete", 8, DistanceMetric.Cosine);
        var points = RandomPoints(seed: 4, count: 20, dimensions: 8);
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);
        string[] doomed = [points[0].Id, points[3].Id, points[7].Id, points[8].Id, points[19].Id];

        var removed = await Backend.DeleteAsync(spec.Name, [.. doomed, "no-such-point", doomed[0]], CancellationToken.None);

        Assert.Equal(5, removed);
        Assert.Equal(15, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
        Assert.Empty(await Backend.RetrieveAsync(spec.Name, doomed, CancellationToken.None));
        var hits = await Backend.SearchAsync(spec.Name, new VectorQuery(points[0].Vector, 50), CancellationToken.None);
        Assert.Equal(15, hits.Count);
        Assert.DoesNotContain(hits, h => doomed.Contains(h.Id));
        Assert.Equal(0, await Backend.DeleteAsync(spec.Name, doomed, CancellationToken.None));
    }

    [Fact]
    public async Task DeleteByDocument_RemovesEveryPointOfThatDocumentOnly()
    {
        var spec = await NewCollectionAsync("delete-doc", 8, DistanceMetric.Cosine);
        var vectors = RandomVectors(5, 12, 8);
        var points = vectors
            .Select((v, i) => new VectorPoint($"p{i:D2}", v, Payload(i < 7 ? "doc-a" : "doc-b", "chunk " + i, ordinal: i)))
            .ToArray();
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);

        Assert.Equal(7, await Backend.DeleteByDocumentAsync(spec.Name, "doc-a", CancellationToken.None));
        Assert.Equal(0, await Backend.DeleteByDocumentAsync(spec.Name, "doc-a", CancellationToken.None));
        Assert.Equal(0, await Backend.DeleteByDocumentAsync(spec.Name, "doc-unknown", CancellationToken.None));

        Assert.Equal(5, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
        var hits = await Backend.SearchAsync(spec.Name, new VectorQuery(vectors[0], 20), CancellationToken.None);
        Assert.All(hits, h => Assert.Equal("doc-b", h.Payload.DocumentId));
    }

    [Fact]
    public async Task Retrieve_ReturnsVectorsAndPayloadsExactly()
    {
        var spec = await NewCollectionAsync("retrieve", 6, DistanceMetric.DotProduct);
        var metadata = Metadata(
            ("lang", "\"ko\""),
            ("year", "12.0"),
            ("page", "7"),
            ("ratio", "0.1"),
            ("big", "12345678901234567890"),
            ("public", "true"),
            ("draft", "false"),
            ("note", "\"따옴표 \\\"와\\\" 줄바꿈\\n 그리고 \\u00e9\""));
        VectorPoint[] points =
        [
            new("k1", [0.1f, -2.5f, 3.25f, float.Epsilon, -0f, 1e-30f], Payload("문서-1", KoreanText, ["한국어", "tag two"], metadata, 3, "제목")),
            new("k2", [1, 2, 3, 4, 5, 6], Payload("doc-2", string.Empty, ordinal: -1)),
            new("k3", [float.MaxValue, float.MinValue, 0, 0, 0, 0], Payload("doc-2", "plain", ["x"], Metadata(("n", "-0.5e-3")), 2, string.Empty)),
        ];
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);

        var stored = (await Backend.RetrieveAsync(spec.Name, ["k3", "missing", "k1", "k2"], CancellationToken.None)).ToDictionary(p => p.Id);

        Assert.Equal(3, stored.Count);
        foreach (var expected in points)
        {
            var actual = stored[expected.Id];
            Assert.Equal(expected.Vector.Length, actual.Vector.Length);
            for (var i = 0; i < expected.Vector.Length; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expected.Vector[i]), BitConverter.SingleToInt32Bits(actual.Vector[i]));
            }

            AssertPayloadEqual(expected.Payload, actual.Payload);
        }
    }

    [Fact]
    public async Task Retrieve_FromCosineCollection_ReturnsVectorsInTheSameDirection()
    {
        var spec = await NewCollectionAsync("retrieve-cos", 16, DistanceMetric.Cosine);
        var points = RandomPoints(seed: 6, count: 5, dimensions: 16);
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);

        var stored = await Backend.RetrieveAsync(spec.Name, [.. points.Select(p => p.Id)], CancellationToken.None);

        Assert.Equal(5, stored.Count);
        foreach (var actual in stored)
        {
            var expected = points.Single(p => p.Id == actual.Id);
            Assert.True(ReferenceScore(DistanceMetric.Cosine, expected.Vector, actual.Vector) > 0.99999);
        }
    }

    // ---- search ----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.DotProduct)]
    [InlineData(DistanceMetric.Euclidean)]
    public async Task Search_RandomVectors_MatchesBruteForceReference(DistanceMetric metric)
    {
        const int dimensions = 48;
        var spec = await NewCollectionAsync("search-" + metric.ToString().ToLowerInvariant(), dimensions, metric);
        var points = RandomPoints(seed: 100 + (int)metric, count: 600, dimensions: dimensions);
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);

        var random = new Random(200 + (int)metric);
        var checkedQueries = 0;
        while (checkedQueries < 5)
        {
            var query = RandomVector(random, dimensions);
            if (!HasClearRanking(metric, query, points, 10))
            {
                continue;
            }

            var expected = ReferenceTopK(metric, query, points, 10);
            var hits = await Backend.SearchAsync(spec.Name, new VectorQuery(query, 10), CancellationToken.None);

            Assert.Equal(expected.Select(e => e.Id), hits.Select(h => h.Id));
            for (var i = 0; i < hits.Count; i++)
            {
                AssertScoreClose(expected[i].Score, hits[i].Score, hits[i].Id);
                Assert.True(i == 0 || hits[i - 1].Score >= hits[i].Score, "Hits must be ordered best first.");
                AssertPayloadEqual(points.Single(p => p.Id == hits[i].Id).Payload, hits[i].Payload);
            }

            checkedQueries++;
        }
    }

    [Fact]
    public async Task Search_TopKLargerThanCollection_ReturnsEveryPointBestFirst()
    {
        var spec = await NewCollectionAsync("search-small", 8, DistanceMetric.Euclidean);
        var points = RandomPoints(seed: 7, count: 6, dimensions: 8);
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);

        var hits = await Backend.SearchAsync(spec.Name, new VectorQuery(points[2].Vector, 100), CancellationToken.None);

        Assert.Equal(6, hits.Count);
        Assert.Equal(points[2].Id, hits[0].Id);
        Assert.Equal(0, hits[0].Score, 3);
        Assert.True(hits.Zip(hits.Skip(1)).All(pair => pair.First.Score >= pair.Second.Score));
    }

    [Fact]
    public async Task Search_WithTagFilter_ReturnsKMatchingPointsAmongManyNonMatching()
    {
        const int dimensions = 24;
        var spec = await NewCollectionAsync("filter-tags", dimensions, DistanceMetric.Cosine);
        var vectors = RandomVectors(8, 500, dimensions);
        var points = vectors
            .Select((v, i) => new VectorPoint(
                $"t{i:D3}",
                v,
                Payload(
                    $"doc{i % 17}",
                    "text " + i,
                    i % 40 == 0 ? ["rare", "common"] : i % 40 == 1 ? ["rare"] : i % 2 == 0 ? ["common"] : [])))
            .ToArray();
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);

        var random = new Random(9);
        foreach (var tags in new[] { new[] { "rare" }, ["rare", "common"], ["common"] })
        {
            var filter = new VectorFilter(tags, PointPayload.NoMetadata);
            var matching = points.Count(p => filter.Matches(p.Payload));
            Assert.Equal(matching, await Backend.CountAsync(spec.Name, filter, CancellationToken.None));

            var query = RandomVector(random, dimensions);
            var k = Math.Min(10, matching);
            var expected = ReferenceTopK(spec.Metric, query, points, k, filter);
            var hits = await Backend.SearchAsync(spec.Name, new VectorQuery(query, 10, filter), CancellationToken.None);

            Assert.Equal(k, hits.Count);
            Assert.All(hits, h => Assert.True(filter.Matches(h.Payload)));
            Assert.Equal(expected.Select(e => e.Id).Order(StringComparer.Ordinal), hits.Select(h => h.Id).Order(StringComparer.Ordinal));
        }

        var none = new VectorFilter(["rare", "absent"], PointPayload.NoMetadata);
        Assert.Empty(await Backend.SearchAsync(spec.Name, new VectorQuery(vectors[0], 10, none), CancellationToken.None));
        Assert.Equal(0, await Backend.CountAsync(spec.Name, none, CancellationToken.None));
    }

    [Fact]
    public async Task Search_WithMetadataFilter_AgreesWithReferenceMatchesForStringNumberAndBool()
    {
        const int dimensions = 24;
        var spec = await NewCollectionAsync("filter-meta", dimensions, DistanceMetric.DotProduct);
        var vectors = RandomVectors(10, 400, dimensions);
        var points = vectors
            .Select((v, i) => new VectorPoint(
                $"m{i:D3}",
                v,
                Payload(
                    $"doc{i % 13}",
                    "text " + i,
                    metadata: Metadata(
                        ("lang", i % 3 == 0 ? "\"ko\"" : "\"en\""),
                        ("year", i % 25 == 0 ? "12" : i % 25 == 1 ? "12.0" : "13"),
                        ("public", i % 2 == 0 ? "true" : "false")))))
            .ToArray();
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);

        VectorFilter[] filters =
        [
            new([], Metadata(("lang", "\"ko\""))),
            new([], Metadata(("year", "12"))),
            new([], Metadata(("year", "12.0"))),
            new([], Metadata(("year", "1.2e1"), ("public", "true"))),
            new([], Metadata(("public", "false"), ("lang", "\"ko\""))),
            new([], Metadata(("lang", "\"KO\""))),
            new([], Metadata(("missing", "1"))),
            new([], Metadata(("public", "\"true\""))),
        ];
        var random = new Random(11);
        foreach (var filter in filters)
        {
            var matching = points.Count(p => filter.Matches(p.Payload));
            Assert.Equal(matching, await Backend.CountAsync(spec.Name, filter, CancellationToken.None));

            var query = RandomVector(random, dimensions);
            var expected = ReferenceTopK(spec.Metric, query, points, 10, filter);
            var hits = await Backend.SearchAsync(spec.Name, new VectorQuery(query, 10, filter), CancellationToken.None);

            Assert.Equal(Math.Min(10, matching), hits.Count);
            Assert.All(hits, h => Assert.True(filter.Matches(h.Payload)));
            Assert.Equal(expected.Select(e => e.Id).Order(StringComparer.Ordinal), hits.Select(h => h.Id).Order(StringComparer.Ordinal));
        }

        // 12 and 12.0 are the same number: both spellings are found by either.
        Assert.Equal(32, await Backend.CountAsync(spec.Name, new VectorFilter([], Metadata(("year", "12.0"))), CancellationToken.None));
    }

    // ---- export and import -----------------------------------------------------------------------------

    [Fact]
    public async Task Export_ThenImportIntoFreshCollection_RoundTripsEveryPoint()
    {
        var source = await NewCollectionAsync("export", 12, DistanceMetric.DotProduct);
        var points = RandomPoints(seed: 12, count: 700, dimensions: 12);
        await Backend.UpsertAsync(source.Name, points, CancellationToken.None);

        var exported = await ToListAsync(Backend.ExportAsync(source.Name, CancellationToken.None));

        Assert.Equal(700, exported.Count);
        Assert.Equal(700, exported.Select(p => p.Id).Distinct().Count());

        var target = await NewCollectionAsync("import", 12, DistanceMetric.DotProduct);
        var imported = await Backend.ImportAsync(target.Name, AsAsync(exported), CancellationToken.None);

        Assert.Equal(700, imported);
        Assert.Equal(700, await Backend.CountAsync(target.Name, null, CancellationToken.None));
        var copies = (await Backend.RetrieveAsync(target.Name, [.. points.Select(p => p.Id)], CancellationToken.None)).ToDictionary(p => p.Id);
        foreach (var original in points)
        {
            Assert.Equal(original.Vector, copies[original.Id].Vector);
            AssertPayloadEqual(original.Payload, copies[original.Id].Payload);
        }
    }

    // ---- errors ----------------------------------------------------------------------------------------

    [Fact]
    public async Task Upsert_WrongDimension_ThrowsInvalidVectorAndWritesNothing()
    {
        var spec = await NewCollectionAsync("wrong-dim", 8, DistanceMetric.Cosine);
        await Backend.UpsertAsync(spec.Name, RandomPoints(seed: 13, count: 3, dimensions: 8), CancellationToken.None);
        var batch = RandomPoints(seed: 14, count: 5, dimensions: 8).Select(p => p with { Id = "new-" + p.Id }).ToList();
        batch.Insert(3, Point("too-short", new float[7]));

        await Assert.ThrowsAsync<InvalidVectorException>(() => Backend.UpsertAsync(spec.Name, batch, CancellationToken.None));

        Assert.Equal(3, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
        Assert.Empty(await Backend.RetrieveAsync(spec.Name, [.. batch.Select(p => p.Id)], CancellationToken.None));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public async Task Upsert_NonFiniteValue_ThrowsInvalidVectorAndWritesNothing(float bad)
    {
        var spec = await NewCollectionAsync("non-finite", 4, DistanceMetric.DotProduct);
        VectorPoint[] batch = [Point("fine", [1, 2, 3, 4]), Point("bad", [1, bad, 3, 4])];

        await Assert.ThrowsAsync<InvalidVectorException>(() => Backend.UpsertAsync(spec.Name, batch, CancellationToken.None));

        Assert.Equal(0, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
    }

    [Fact]
    public async Task UnknownCollection_SearchUpsertAndCount_ThrowNotFound()
    {
        var name = NewName("unknown");

        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(
            () => Backend.SearchAsync(name, new VectorQuery([1, 0, 0, 0], 5), CancellationToken.None));
        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(
            () => Backend.UpsertAsync(name, [Point("a", [1, 0, 0, 0])], CancellationToken.None));
        await Assert.ThrowsAsync<VectorCollectionNotFoundException>(
            () => Backend.CountAsync(name, null, CancellationToken.None));
        Assert.Null(await Backend.GetCollectionAsync(name, CancellationToken.None));
    }

    // ---- concurrency and persistence --------------------------------------------------------------------

    [Fact]
    public async Task ConcurrentUpsertsAndSearches_DoNotThrowAndEndWithEveryPoint()
    {
        const int dimensions = 16, writers = 4, batches = 25, batchSize = 8;
        var spec = await NewCollectionAsync("concurrent", dimensions, DistanceMetric.Cosine);
        using var writersDone = new CancellationTokenSource();

        var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var b = 0; b < batches; b++)
            {
                var batch = Enumerable.Range(0, batchSize)
                    .Select(i => new VectorPoint($"w{w}-b{b}-i{i}", RandomVector(random, dimensions), Payload($"doc-w{w}", "text", ["t" + (i % 3)], ordinal: i)))
                    .ToArray();
                await Backend.UpsertAsync(spec.Name, batch, CancellationToken.None);

                // A redelivered batch must not duplicate anything.
                if (b % 5 == 0)
                {
                    await Backend.UpsertAsync(spec.Name, batch, CancellationToken.None);
                }
            }
        })).ToArray();
        var readerTasks = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var random = new Random(100 + r);
            var filter = new VectorFilter(["t1"], PointPayload.NoMetadata);
            do
            {
                // Backends may complete reads synchronously; without yielding, these loops would keep every
                // pool thread and starve the writers' continuations on a small machine.
                await Task.Yield();
                var hits = await Backend.SearchAsync(spec.Name, new VectorQuery(RandomVector(random, dimensions), 5, r == 0 ? filter : null), CancellationToken.None);
                Assert.True(hits.Count <= 5);
                _ = await Backend.CountAsync(spec.Name, null, CancellationToken.None);
            }
            while (!writersDone.IsCancellationRequested);
        })).ToArray();

        // A backend that deadlocks fails the test instead of hanging the run.
        try
        {
            await Task.WhenAll(writerTasks).WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await writersDone.CancelAsync();
        }

        await Task.WhenAll(readerTasks).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(writers * batches * batchSize, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
    }

    [Fact]
    public async Task Reopen_AfterDispose_KeepsSpecPointsPayloadsAndDeletions()
    {
        var spec = await NewCollectionAsync("persist", 16, DistanceMetric.Cosine);
        var points = RandomPoints(seed: 15, count: 60, dimensions: 16);
        await Backend.UpsertAsync(spec.Name, points, CancellationToken.None);
        await Backend.DeleteAsync(spec.Name, [points[0].Id, points[1].Id], CancellationToken.None);
        await Backend.DeleteByDocumentAsync(spec.Name, points[10].Payload.DocumentId, CancellationToken.None);
        var changed = points[20] with { Payload = Payload("doc-changed", KoreanText, ["바뀜"], Metadata(("v", "2.50"))) };
        await Backend.UpsertAsync(spec.Name, [changed], CancellationToken.None);

        var ids = points.Select(p => p.Id).ToArray();
        var before = (await Backend.RetrieveAsync(spec.Name, ids, CancellationToken.None)).ToDictionary(p => p.Id);
        var query = points[30].Vector;
        var hitsBefore = await Backend.SearchAsync(spec.Name, new VectorQuery(query, 10), CancellationToken.None);

        var disposed = Backend;
        await disposed.DisposeAsync();
        _backend = null;
        var reopened = await ReopenAsync(disposed);
        if (reopened is null)
        {
            return;
        }

        _backend = reopened;
        Assert.Equal(spec, await Backend.GetCollectionAsync(spec.Name, CancellationToken.None));
        Assert.Equal(before.Count, await Backend.CountAsync(spec.Name, null, CancellationToken.None));
        var after = (await Backend.RetrieveAsync(spec.Name, ids, CancellationToken.None)).ToDictionary(p => p.Id);
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, point) in before)
        {
            Assert.Equal(point.Vector, after[id].Vector);
            AssertPayloadEqual(point.Payload, after[id].Payload);
        }

        var hitsAfter = await Backend.SearchAsync(spec.Name, new VectorQuery(query, 10), CancellationToken.None);
        Assert.Equal(hitsBefore.Select(h => (h.Id, h.Score)), hitsAfter.Select(h => (h.Id, h.Score)));
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    /// <summary>A collection name no other test (or earlier run against a shared server) uses.</summary>
    protected static string NewName(string purpose) => $"conf-{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 21, 60)];

    /// <summary>Creates a collection that is deleted again when the test ends.</summary>
    protected async Task<VectorCollectionSpec> NewCollectionAsync(string purpose, int dimensions, DistanceMetric metric)
    {
        var spec = new VectorCollectionSpec(NewName(purpose), dimensions, metric, Fingerprint(dimensions));
        await EnsureAsync(spec);
        return spec;
    }

    private async Task EnsureAsync(VectorCollectionSpec spec)
    {
        await Backend.EnsureCollectionAsync(spec, CancellationToken.None);
        _createdCollections.Add(spec.Name);
    }

    private static VectorPoint Point(string id, float[] vector) => new(id, vector, Payload("doc-" + id, "text of " + id));

    private static VectorPoint[] RandomPoints(int seed, int count, int dimensions) =>
        RandomVectors(seed, count, dimensions)
            .Select((v, i) => new VectorPoint(
                $"pt-{seed}-{i:D4}",
                v,
                Payload(
                    $"doc-{seed}-{i / 5}",
                    i % 2 == 0 ? KoreanText + " #" + i : "chunk " + i,
                    i % 3 == 0 ? ["even-third", "태그"] : ["other"],
                    i % 4 == 0 ? Metadata(("index", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("lang", "\"ko\"")) : null,
                    i % 5,
                    i % 2 == 0 ? "제목 " + i : null)))
            .ToArray();
}
