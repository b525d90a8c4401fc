// Half of scripts/bench-embedded.sh: the embedded exact backend on the vectors faiss_bench.py generated.
//   dotnet run -c Release scripts/bench/EmbeddedBench.cs -- DIR [CLIENTS=64] [BATCHING=on|off] [PARALLEL_SEARCH_THRESHOLD]  -> one JSON line
// Single-query QPS (one caller, one query per call, like python3-faiss's loop) and QPS with CLIENTS
// callers searching at once (the backend coalesces them into one pass over the store when batching is on).
#:project ../../plugins/RagPlatform.Sdk/RagPlatform.Sdk.csproj
#:project ../../plugins/RagPlatform.Plugins.EmbeddedVectors/RagPlatform.Plugins.EmbeddedVectors.csproj
#:property PublishAot=false

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using RagPlatform.Plugins.EmbeddedVectors;
using RagPlatform.Sdk;

var directory = args[0];
var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
var batching = args.Length <= 2 || args[2] != "off";
var parallelSearchThreshold = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : EmbeddedVectorOptions.DefaultParallelSearchThreshold;
var truth = MemoryMarshal.Cast<byte, long>(File.ReadAllBytes(Path.Combine(directory, "truth.i64"))).ToArray();
var queryCount = truth.Length / 10;
var queryValues = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(directory, "queries.f32"))).ToArray();
var dimensions = queryValues.Length / queryCount;
var baseValues = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(directory, "base.f32"))).ToArray();
var count = baseValues.Length / dimensions;

var store = Path.Combine(directory, "embedded-store");
if (Directory.Exists(store))
{
    Directory.Delete(store, recursive: true);
}

var options = new EmbeddedVectorOptions { Path = store, BatchConcurrentSearches = batching, ParallelSearchThreshold = parallelSearchThreshold };
await using var backend = new EmbeddedVectorBackend(options);
var fingerprint = new ModelFingerprint("bench", "random", "1", dimensions, "none", "l2");
await backend.EnsureCollectionAsync(new VectorCollectionSpec("bench", dimensions, DistanceMetric.Cosine, fingerprint), CancellationToken.None);
var payload = new PointPayload("doc", null, "", [], PointPayload.NoMetadata, "h", 0);
for (var start = 0; start < count; start += 10_000)
{
    var batch = Enumerable.Range(start, Math.Min(10_000, count - start))
        .Select(i => new VectorPoint(i.ToString(CultureInfo.InvariantCulture), baseValues.AsSpan(i * dimensions, dimensions).ToArray(), payload))
        .ToArray();
    await backend.UpsertAsync("bench", batch, CancellationToken.None);
}

var queries = Enumerable.Range(0, queryCount).Select(i => queryValues.AsSpan(i * dimensions, dimensions).ToArray()).ToArray();
for (var i = 0; i < Math.Min(20, queryCount); i++)
{
    await backend.SearchAsync("bench", new VectorQuery(queries[i], 10), CancellationToken.None);
}

var results = new IReadOnlyList<VectorSearchHit>[queryCount];
var timer = Stopwatch.StartNew();
for (var i = 0; i < queryCount; i++)
{
    results[i] = await backend.SearchAsync("bench", new VectorQuery(queries[i], 10), CancellationToken.None);
}

var singleQps = queryCount / timer.Elapsed.TotalSeconds;
var recall = Recall(results);

// CLIENTS callers at once, each taking the next query until all are answered (twice over, for a longer window).
var rounds = 2;
var concurrent = new IReadOnlyList<VectorSearchHit>[queryCount];
var next = -1;
timer.Restart();
await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
{
    int i;
    while ((i = Interlocked.Increment(ref next)) < rounds * queryCount)
    {
        concurrent[i % queryCount] = await backend.SearchAsync("bench", new VectorQuery(queries[i % queryCount], 10), CancellationToken.None);
    }
})));
var concurrentQps = rounds * queryCount / timer.Elapsed.TotalSeconds;
var sameAnswers = Enumerable.Range(0, queryCount).All(i => results[i].Select(h => h.Id).SequenceEqual(concurrent[i].Select(h => h.Id)));

Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"{{\"engine\": \"RagPlatform embedded (exact)\", \"qps\": {singleQps:F1}, \"clients\": {clients}, \"batching\": {(batching ? "true" : "false")}, \"concurrent_qps\": {concurrentQps:F1}, \"recall_at_10\": {recall:F4}, \"concurrent_answers_identical\": {(sameAnswers ? "true" : "false")}}}"));

double Recall(IReadOnlyList<VectorSearchHit>[] found)
{
    var hits = 0;
    for (var i = 0; i < queryCount; i++)
    {
        var expected = truth.AsSpan(i * 10, 10).ToArray();
        hits += found[i].Count(h => expected.Contains(long.Parse(h.Id, CultureInfo.InvariantCulture)));
    }

    return hits / (10.0 * queryCount);
}
