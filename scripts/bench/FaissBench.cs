// Half of scripts/bench-faiss.sh: the "faiss" plugin on the vectors faiss_bench.py generated.
//   dotnet run scripts/bench/FaissBench.cs -- DIR M EF_CONSTRUCTION EF_SEARCH NATIVE_LIBRARY  -> one JSON line
// Stands in for `rag bench query --backend faiss` until that command exists.
#:project ../../plugins/RagPlatform.Sdk/RagPlatform.Sdk.csproj
#:project ../../plugins/RagPlatform.Plugins.Faiss/RagPlatform.Plugins.Faiss.csproj
#:property PublishAot=false

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using RagPlatform.Plugins.Faiss;
using RagPlatform.Sdk;

var directory = args[0];
var m = int.Parse(args[1], CultureInfo.InvariantCulture);
var efConstruction = int.Parse(args[2], CultureInfo.InvariantCulture);
var efSearch = int.Parse(args[3], CultureInfo.InvariantCulture);
var truth = MemoryMarshal.Cast<byte, long>(File.ReadAllBytes(Path.Combine(directory, "truth.i64"))).ToArray();
var queryCount = truth.Length / 10;
var queryValues = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(directory, "queries.f32"))).ToArray();
var dimensions = queryValues.Length / queryCount;
var baseValues = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(directory, "base.f32"))).ToArray();
var count = baseValues.Length / dimensions;

// "reuse" as the sixth argument searches the index an earlier run left (e.g. to sweep efSearch without
// rebuilding); otherwise the plugin builds a fresh one.
var store = Path.Combine(directory, "dotnet-store");
var reuse = args.Length > 5 && args[5] == "reuse" && Directory.Exists(store);
if (!reuse && Directory.Exists(store))
{
    Directory.Delete(store, recursive: true);
}

var options = new FaissVectorOptions
{
    Path = store,
    IndexFactory = $"HNSW{m},Flat",
    HnswEfConstruction = efConstruction,
    HnswEfSearch = efSearch,
    NativeLibraryPath = args[4],
};
await using var backend = new FaissVectorBackend(options);
var fingerprint = new ModelFingerprint("bench", "random", "1", dimensions, "none", "l2");
await backend.EnsureCollectionAsync(new VectorCollectionSpec("bench", dimensions, DistanceMetric.Cosine, fingerprint), CancellationToken.None);
var payload = new PointPayload("doc", null, "", [], PointPayload.NoMetadata, "h", 0);

var build = Stopwatch.StartNew();
for (var start = 0; !reuse && start < count; start += 10_000)
{
    var batch = Enumerable.Range(start, Math.Min(10_000, count - start))
        .Select(i => new VectorPoint(i.ToString(CultureInfo.InvariantCulture), baseValues.AsSpan(i * dimensions, dimensions).ToArray(), payload))
        .ToArray();
    await backend.UpsertAsync("bench", batch, CancellationToken.None);
}

build.Stop();
var queries = Enumerable.Range(0, queryCount).Select(i => queryValues.AsSpan(i * dimensions, dimensions).ToArray()).ToArray();
for (var i = 0; i < Math.Min(50, queryCount); i++)
{
    await backend.SearchAsync("bench", new VectorQuery(queries[i], 10), CancellationToken.None);
}

var found = 0;
var timer = Stopwatch.StartNew();
var results = new IReadOnlyList<VectorSearchHit>[queryCount];
for (var i = 0; i < queryCount; i++)
{
    results[i] = await backend.SearchAsync("bench", new VectorQuery(queries[i], 10), CancellationToken.None);
}

timer.Stop();
for (var i = 0; i < queryCount; i++)
{
    var expected = truth.AsSpan(i * 10, 10).ToArray();
    found += results[i].Count(h => expected.Contains(long.Parse(h.Id, CultureInfo.InvariantCulture)));
}

// The checkpoint writes the index file python3-faiss then searches: both engines answer from one index.
await backend.FlushAsync(CancellationToken.None);
var indexFile = Directory.GetFiles(Path.Combine(store, "bench"), "index.*.faiss").Single();
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"{{\"engine\": \"RagPlatform faiss plugin\", \"build_s\": {build.Elapsed.TotalSeconds:F2}, \"qps\": {queryCount / timer.Elapsed.TotalSeconds:F1}, \"recall_at_10\": {found / (10.0 * queryCount):F4}, \"index_file\": \"{indexFile}\"}}"));
