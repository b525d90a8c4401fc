using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.EmbeddedVectors.Tests;

/// <summary>
/// Concurrent searches coalesced into one pass: every caller still gets exactly its own answer. The tests
/// make searches queue deterministically by holding the collection's write lock while they arrive.
/// </summary>
public sealed class SearchBatcherTests : IDisposable
{
    private const int Dimensions = 383;
    private readonly TempDirectory _directory = new();
    private readonly CancellationToken _ct = CancellationToken.None;

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(int.MaxValue)]
    public async Task QueuedSearches_AnsweredAsOneBatch_EachGetExactlyItsOwnHitsAndFilter(int parallelSearchThreshold)
    {
        using var collection = await FilledAsync(parallelSearchThreshold);
        var random = new Random(5);
        var queries = Enumerable.Range(0, 40).Select(i => new VectorQuery(
            ExactScanTests.RandomVector(random, Dimensions),
            1 + (i % 13),
            i % 3 == 0 ? new VectorFilter(["third"], PointPayload.NoMetadata) : null)).ToArray();
        var expected = queries.Select(q => collection.Search(q, _ct)).ToArray();

        var (first, rest) = QueueBehindABlockedSearch(collection, queries[0], queries[1..], _ => _ct);

        AssertSameHits(expected[0], await first);
        for (var i = 0; i < rest.Length; i++)
        {
            AssertSameHits(expected[i + 1], await rest[i]);
        }

        Assert.Equal(rest.Length, collection.Batcher!.LargestBatch);
        Assert.False(collection.Batcher.IsBusy);
    }

    [Fact]
    public async Task QueuedSearch_CancelledWhileWaiting_IsCancelledAndTheOthersAreAnswered()
    {
        using var collection = await FilledAsync(0);
        var random = new Random(6);
        var queries = Enumerable.Range(0, 8).Select(_ => new VectorQuery(ExactScanTests.RandomVector(random, Dimensions), 10)).ToArray();
        var expected = queries.Select(q => collection.Search(q, _ct)).ToArray();
        using var cancel = new CancellationTokenSource();

        var (first, rest) = QueueBehindABlockedSearch(collection, queries[0], queries[1..], i =>
        {
            if (i == 3)
            {
                return cancel.Token;
            }

            return _ct;
        }, beforeRelease: () => cancel.Cancel());

        AssertSameHits(expected[0], await first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rest[3]);
        for (var i = 0; i < rest.Length; i++)
        {
            if (i != 3)
            {
                AssertSameHits(expected[i + 1], await rest[i]);
            }
        }

        Assert.Equal(rest.Length - 1, collection.Batcher!.LargestBatch);
    }

    [Fact]
    public async Task ManyConcurrentCallers_WithoutOrchestration_GetTheSameHitsAsSearchingAlone()
    {
        using var collection = await FilledAsync(0);
        var random = new Random(7);
        var queries = Enumerable.Range(0, 200).Select(i => new VectorQuery(
            ExactScanTests.RandomVector(random, Dimensions),
            10,
            i % 4 == 0 ? new VectorFilter(["third"], PointPayload.NoMetadata) : null)).ToArray();
        var expected = queries.Select(q => collection.Search(q, _ct)).ToArray();

        var next = -1;
        var found = new IReadOnlyList<VectorSearchHit>[queries.Length];
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < queries.Length)
            {
                found[i] = await collection.SearchAsync(queries[i], _ct);
            }
        })));

        for (var i = 0; i < queries.Length; i++)
        {
            AssertSameHits(expected[i], found[i]);
        }
    }

    [Fact]
    public async Task EuclideanCollection_SearchesWithoutTheBatcher()
    {
        var spec = new VectorCollectionSpec("l2", 8, DistanceMetric.Euclidean, new ModelFingerprint("test", "model", "1", 8, "mean", "l2"));
        using var collection = new EmbeddedCollection(spec, _directory.Path, new EmbeddedVectorOptions { Path = _directory.Path }, NullLogger.Instance);
        var random = new Random(8);
        await collection.UpsertAsync([.. Enumerable.Range(0, 50).Select(i => ExactScanTests.Point(random, $"p{i}", 8, []))], _ct);

        Assert.Null(collection.Batcher);
        Assert.Equal(5, (await collection.SearchAsync(new VectorQuery(ExactScanTests.RandomVector(random, 8), 5), _ct)).Count);
    }

    /// <summary>
    /// Starts <paramref name="first"/> while the write lock is held (it becomes the running scan and waits),
    /// then issues <paramref name="rest"/> (they queue behind it), then releases the lock.
    /// </summary>
    private static (Task<IReadOnlyList<VectorSearchHit>> First, Task<IReadOnlyList<VectorSearchHit>>[] Queued) QueueBehindABlockedSearch(
        EmbeddedCollection collection, VectorQuery first, VectorQuery[] rest, Func<int, CancellationToken> tokenFor, Action? beforeRelease = null)
    {
        var batcher = collection.Batcher!;
        Task<IReadOnlyList<VectorSearchHit>> leader;
        var queued = new Task<IReadOnlyList<VectorSearchHit>>[rest.Length];
        collection.EnterWriteLockForTests();
        try
        {
            leader = Task.Run(() => collection.SearchAsync(first, CancellationToken.None));
            // A bounded wait for the other thread to reach the scan, not a timing assertion.
            Assert.True(SpinWait.SpinUntil(() => batcher.IsBusy, TimeSpan.FromSeconds(60)));
            for (var i = 0; i < rest.Length; i++)
            {
                queued[i] = collection.SearchAsync(rest[i], tokenFor(i));
            }

            Assert.Equal(rest.Length, batcher.QueuedCount);
            Assert.All(queued, t => Assert.False(t.IsCompleted));
            beforeRelease?.Invoke();
        }
        finally
        {
            // Everything above is synchronous, so this is the thread that took the lock (it has thread affinity).
            collection.ExitWriteLockForTests();
        }

        return (leader, queued);
    }

    private async Task<EmbeddedCollection> FilledAsync(int parallelSearchThreshold)
    {
        var spec = new VectorCollectionSpec("batch", Dimensions, DistanceMetric.Cosine, new ModelFingerprint("test", "model", "1", Dimensions, "mean", "l2"));
        var collection = new EmbeddedCollection(spec, _directory.Path, new EmbeddedVectorOptions { Path = _directory.Path, ParallelSearchThreshold = parallelSearchThreshold }, NullLogger.Instance);
        var random = new Random(4);
        await collection.UpsertAsync([.. Enumerable.Range(0, 1500).Select(i => ExactScanTests.Point(random, $"p{i:D4}", Dimensions, i % 3 == 0 ? ["third"] : []))], _ct);
        return collection;
    }

    private static void AssertSameHits(IReadOnlyList<VectorSearchHit> expected, IReadOnlyList<VectorSearchHit> actual) =>
        Assert.Equal(expected.Select(h => (h.Id, h.Score)), actual.Select(h => (h.Id, h.Score)));
}
