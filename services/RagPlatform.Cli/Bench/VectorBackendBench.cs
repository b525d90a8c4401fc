using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RagPlatform.Client;
using RagPlatform.Cli.Commands;
using RagPlatform.Cli.Output;
using RagPlatform.Cli.Vectors;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Bench;

/// <summary>What <c>rag bench query --backend</c> measures, with its defaults applied.</summary>
public sealed record VectorBackendBenchRun(
    string Backend,
    int Vectors,
    int Dimensions,
    int Queries,
    int Clients,
    BenchVectorData Data,
    string IndexFactory,
    int EfConstruction,
    int EfSearch,
    int Seed)
{
    public bool IsFaiss => Backend == VectorBackendBench.Faiss;
}

/// <summary>
/// <c>rag bench query --backend embedded|faiss</c> (issue 5): one vector backend plugin against Debian's python3-faiss
/// on the same vectors, in one run. The vectors are generated once here and written as raw float32 files; each
/// query's exact top 10 comes from this command's own scan (<see cref="BenchVectorSet.ComputeExactTruth"/>), and
/// both engines are judged against it. The plugin is created the way the platform creates it (the plugin catalog,
/// with its settings under <c>RagPlatform:VectorStore:Backends:&lt;name&gt;</c>) and measured one query per call; the
/// embedded backend also with <c>--clients</c> concurrent callers. Then python3-faiss: for faiss, it searches the
/// very index file the plugin checkpointed, with the same efSearch; for embedded, it builds IndexFlatIP on the same
/// points and searches one query per call, then <c>--clients</c> queries per call.
/// </summary>
public static class VectorBackendBench
{
    public const string Embedded = "embedded";
    public const string Faiss = "faiss";

    /// <summary>Issue 5: QPS at least 0.9× python3-faiss's, and (HNSW) recall@10 at least 0.95.</summary>
    public const double GoalQpsRatio = 0.9;

    public const double GoalRecall = 0.95;
    private const string Collection = "bench";
    private const int UpsertBatch = 10_000;

    /// <summary>Warm-up searches before each timed loop, on both sides (the anchor script does the same).</summary>
    private const int WarmUpQueries = 50;

    /// <summary>The concurrent run answers every query this many times over, for a longer measured window.</summary>
    private const int ConcurrentRounds = 2;

    public static async Task<int> RunAsync(VectorBackendBenchRun run, IReadOnlyList<string> settings, TextWriter log, CancellationToken cancellationToken)
    {
        var work = Path.Combine(Path.GetTempPath(), "rag-bench-backend-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        try
        {
            var loadBefore = BenchCommand.LoadAverage();
            var anchor = await FaissAnchor.PrepareAsync(work, cancellationToken);

            var clock = Stopwatch.StartNew();
            var set = BenchVectorSet.Generate(run.Vectors, run.Dimensions, run.Queries, run.Data, run.Seed);
            var generateSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            set.ComputeExactTruth();
            var truthSeconds = clock.Elapsed.TotalSeconds;
            set.WriteTo(work);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Terminal.Count(run.Vectors)} × {run.Dimensions} unit vectors ({DataName(run.Data)}, seed {run.Seed}) and {Terminal.Count(run.Queries)} queries " +
                $"generated in {generateSeconds:0.0} s; exact top-{BenchVectorSet.K} by this command's own scan in {truthSeconds:0.0} s; " +
                $"{Environment.ProcessorCount} CPUs"));

            // Ours before the anchor and again after it (the machine's load drifts while both run): the better pass counts,
            // as the better of two OpenMP settings counts for python3-faiss.
            var platformDirectory = Path.Combine(work, "platform");
            var first = await MeasureOursAsync(run, set, platformDirectory, settings, build: true, log, cancellationToken);
            var indexFile = run.IsFaiss ? FindIndexFile(platformDirectory) : null;

            log.WriteLine(run.IsFaiss
                ? $"{anchor.Engine}: searching the plugin's index file, efSearch {run.EfSearch}, one query per call …"
                : $"{anchor.Engine}: IndexFlatIP, one query per call, then {Math.Min(run.Clients, run.Queries)} queries per call …");
            var python = run.IsFaiss
                ? await anchor.SearchIndexFileAsync(work, run.Dimensions, indexFile!, run.EfSearch, cancellationToken)
                : await anchor.SearchFlatAsync(work, run.Dimensions, run.Clients, cancellationToken);
            var second = await MeasureOursAsync(run, set, platformDirectory, settings, build: false, log, cancellationToken);
            var ours = OurFigures.Combine(first, second);
            var loadAfter = BenchCommand.LoadAverage();

            var result = Report(run, ours, python, anchor.Engine, loadBefore, loadAfter, log);
            Console.WriteLine(result.ToJsonString(CliJson.Options));
            return ExitCodes.Ok;
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static string DataName(BenchVectorData data) => data == BenchVectorData.LowRank ? "lowrank" : "uniform";

    /// <summary>One pass over the queries: single-caller QPS and recall, and for embedded the concurrent run.</summary>
    private sealed record Pass(
        string Engine, double? BuildSeconds, double Qps, double Recall, double? ConcurrentQps, double? ConcurrentRecall, bool? ConcurrentAnswersIdentical);

    private sealed record OurFigures(string Engine, double BuildSeconds, IReadOnlyList<Pass> Passes)
    {
        public double Qps => Passes.Max(p => p.Qps);

        /// <summary>The worse pass's recall (both passes search the same data and normally agree).</summary>
        public double Recall => Passes.Min(p => p.Recall);

        public double? ConcurrentQps => Passes.Max(p => p.ConcurrentQps);

        public double? ConcurrentRecall => Passes.Min(p => p.ConcurrentRecall);

        public bool? ConcurrentAnswersIdentical => Passes[0].ConcurrentAnswersIdentical is null ? null : Passes.All(p => p.ConcurrentAnswersIdentical == true);

        public static OurFigures Combine(Pass first, Pass second) => new(first.Engine, first.BuildSeconds ?? 0, [first, second]);
    }

    /// <summary>
    /// One pass with the plugin, created through the platform's plugin catalog (as a service would) in the run's data
    /// directory. <paramref name="build"/>: the collection is created and filled first; otherwise the plugin reopens
    /// what the first pass stored (for faiss, the checkpointed index). Disposed before returning, which checkpoints a
    /// faiss collection to its index file.
    /// </summary>
    private static async Task<Pass> MeasureOursAsync(
        VectorBackendBenchRun run, BenchVectorSet set, string dataDirectory, IReadOnlyList<string> settings, bool build, TextWriter log,
        CancellationToken cancellationToken)
    {
        await using var platform = await OfflinePlatform.OpenAsync(dataDirectory, settings, cancellationToken);
        var backendSettings = run.IsFaiss
            ? new Dictionary<string, string>
            {
                ["IndexFactory"] = run.IndexFactory,
                ["HnswEfConstruction"] = run.EfConstruction.ToString(CultureInfo.InvariantCulture),
                ["HnswEfSearch"] = run.EfSearch.ToString(CultureInfo.InvariantCulture),
            }
            : [];
        var backend = await OpenBackendAsync(platform, new BackendSelection(run.Backend, backendSettings), cancellationToken);
        var engine = run.IsFaiss ? $"RagPlatform faiss plugin ({run.IndexFactory})" : "RagPlatform embedded (exact)";

        var fingerprint = new ModelFingerprint("bench", "random-" + DataName(run.Data), "1", run.Dimensions, "none", "l2");
        try
        {
            await backend.EnsureCollectionAsync(new VectorCollectionSpec(Collection, run.Dimensions, DistanceMetric.Cosine, fingerprint), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new CliException($"the {run.Backend} backend could not create the benchmark collection" +
                (run.IsFaiss ? $" with index \"{run.IndexFactory}\"" : string.Empty) + $": {ex.Message}");
        }

        var clock = Stopwatch.StartNew();
        double? buildSeconds = null;
        if (build)
        {
            log.WriteLine(run.IsFaiss ? $"{engine}: building (efConstruction {run.EfConstruction}) …" : $"{engine}: loading …");
            var payload = new PointPayload("bench", null, string.Empty, [], PointPayload.NoMetadata, "bench", 0);
            for (var start = 0; start < set.Count; start += UpsertBatch)
            {
                var batch = new VectorPoint[Math.Min(UpsertBatch, set.Count - start)];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = new VectorPoint((start + i).ToString(CultureInfo.InvariantCulture), set.Point(start + i).ToArray(), payload);
                }

                await backend.UpsertAsync(Collection, batch, cancellationToken);
            }

            buildSeconds = clock.Elapsed.TotalSeconds;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{engine}: {(run.IsFaiss ? "built" : "loaded")} in {buildSeconds:0.0} s"));
        }
        else
        {
            var stored = await backend.CountAsync(Collection, null, cancellationToken);
            if (stored != set.Count)
            {
                throw new CliException($"the {run.Backend} backend reopened {stored} of the {set.Count} points it stored.");
            }
        }

        var queries = Enumerable.Range(0, set.QueryCount).Select(i => set.Query(i).ToArray()).ToArray();
        for (var i = 0; i < Math.Min(WarmUpQueries, queries.Length); i++)
        {
            await backend.SearchAsync(Collection, new VectorQuery(queries[i], BenchVectorSet.K), cancellationToken);
        }

        log.WriteLine($"{engine}: {(build ? "pass 1" : "pass 2, reopened from its files")}, one query per call{(run.IsFaiss ? $", efSearch {run.EfSearch}" : string.Empty)} …");
        var single = new IReadOnlyList<VectorSearchHit>[queries.Length];
        clock.Restart();
        for (var i = 0; i < queries.Length; i++)
        {
            single[i] = await backend.SearchAsync(Collection, new VectorQuery(queries[i], BenchVectorSet.K), cancellationToken);
        }

        var qps = queries.Length / clock.Elapsed.TotalSeconds;
        if (run.IsFaiss)
        {
            return new Pass(engine, buildSeconds, qps, set.Recall(Rows(single)), null, null, null);
        }

        // --clients callers at once, each taking the next query until all are answered (twice over).
        log.WriteLine($"{engine}: {run.Clients} concurrent callers …");
        var concurrent = new IReadOnlyList<VectorSearchHit>[queries.Length];
        var next = -1;
        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, run.Clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < ConcurrentRounds * queries.Length)
            {
                concurrent[i % queries.Length] = await backend.SearchAsync(
                    Collection, new VectorQuery(queries[i % queries.Length], BenchVectorSet.K), cancellationToken);
            }
        }, cancellationToken)));
        var concurrentQps = ConcurrentRounds * queries.Length / clock.Elapsed.TotalSeconds;
        var identical = Enumerable.Range(0, queries.Length).All(i => single[i].Select(h => h.Id).SequenceEqual(concurrent[i].Select(h => h.Id)));
        return new Pass(engine, buildSeconds, qps, set.Recall(Rows(single)), concurrentQps, set.Recall(Rows(concurrent)), identical);
    }

    /// <summary>Disposing the faiss backend checkpointed the collection: index.&lt;generation&gt;.faiss is the graph it searched.</summary>
    private static string FindIndexFile(string dataDirectory)
    {
        var root = Path.Combine(dataDirectory, "vectors", Faiss);
        return Directory.GetFiles(root, "index.*.faiss", SearchOption.AllDirectories).SingleOrDefault()
            ?? throw new CliException($"the faiss plugin wrote no index file under {root}.");
    }

    private static async Task<IVectorBackend> OpenBackendAsync(OfflinePlatform platform, BackendSelection selection, CancellationToken cancellationToken)
    {
        try
        {
            return await platform.OpenBackendAsync(selection, cancellationToken);
        }
        catch (DllNotFoundException ex)
        {
            throw new CliException(ex.Message +
                " Or point the plugin at it: --RagPlatform:VectorStore:Backends:faiss:NativeLibraryPath=/full/path/libragfaiss.so");
        }
        catch (Exception ex) when (ex is PluginNotFoundException or PluginConfigurationException or PluginLoadException)
        {
            throw new CliException(ex.Message);
        }
    }

    /// <summary>Point ids are row numbers.</summary>
    private static List<IEnumerable<long>> Rows(IReadOnlyList<VectorSearchHit>[] results) =>
        [.. results.Select(hits => hits.Select(h => long.Parse(h.Id, CultureInfo.InvariantCulture)))];

    private static JsonObject Report(
        VectorBackendBenchRun run, OurFigures ours, JsonElement python, string anchorEngine, double? loadBefore, double? loadAfter, TextWriter log)
    {
        var anchorQps = python.GetProperty("qps").GetDouble();
        var anchorRecall = python.GetProperty("recallAt10").GetDouble();
        var singleRatio = ours.Qps / anchorQps;
        var qpsMet = singleRatio >= GoalQpsRatio;
        var recallMet = ours.Recall >= GoalRecall;
        double? batchQps = run.IsFaiss ? null : python.GetProperty("batchQps").GetDouble();
        double? concurrentRatio = ours.ConcurrentQps / batchQps;

        var threads = string.Join(", ", python.GetProperty("qpsByOmpThreads").EnumerateObject()
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} thread{(p.Name == "1" ? string.Empty : "s")} {p.Value.GetDouble():0.0}")));
        string PerPass(Func<Pass, double?> figure) =>
            string.Join(" / ", ours.Passes.Select(p => figure(p)?.ToString("0.0", CultureInfo.InvariantCulture)));
        var passes = run.IsFaiss ? PerPass(p => p.Qps) : $"1 query/call {PerPass(p => p.Qps)}, many at once {PerPass(p => p.ConcurrentQps)}";
        var anchorName = run.IsFaiss ? $"{anchorEngine} (the plugin's index file)" : $"{anchorEngine} IndexFlatIP";
        if (run.IsFaiss)
        {
            log.WriteLine();
            log.WriteLine($"{"engine",-52} {"QPS",9} {"recall@10",10}");
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ours.Engine,-52} {ours.Qps,9:0.0} {ours.Recall,10:0.0000}   (best of 2 passes: {passes})"));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{anchorName,-52} {anchorQps,9:0.0} {anchorRecall,10:0.0000}   (OpenMP: {threads})"));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"ratio (ours / python3-faiss)",-52} {singleRatio,8:0.00}×"));
        }
        else
        {
            var batch = python.GetProperty("batch").GetInt32();
            log.WriteLine();
            log.WriteLine($"{"engine",-44} {"1 query/call QPS",17} {"many at once QPS",17} {"recall@10",10}");
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ours.Engine,-44} {ours.Qps,17:0.0} {ours.ConcurrentQps,17:0.0} {ours.Recall,10:0.0000}   ({run.Clients} concurrent callers; best of 2 passes: {passes})"));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{anchorName,-44} {anchorQps,17:0.0} {batchQps,17:0.0} {anchorRecall,10:0.0000}   ({batch} queries per call; OpenMP single: {threads})"));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"ratio (ours / python3-faiss)",-44} {singleRatio,16:0.00}× {concurrentRatio,16:0.00}×"));
        }

        var concurrentGoal = run.IsFaiss
            ? string.Empty
            : string.Create(CultureInfo.InvariantCulture,
                $"; {run.Clients} concurrent callers vs {python.GetProperty("batch").GetInt32()} queries per call: {concurrentRatio:0.00}× (reported, no bar)");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"goal: single-query QPS ≥ {GoalQpsRatio:0.0}× python3-faiss: {Met(qpsMet)}; recall@10 ≥ {GoalRecall:0.00}: {Met(recallMet)}{concurrentGoal}"));
        if (Math.Max(loadBefore ?? 0, loadAfter ?? 0) > Environment.ProcessorCount)
        {
            CommandRunner.Warn(string.Create(CultureInfo.InvariantCulture,
                $"the machine's load average was {loadBefore:0.0} before and {loadAfter:0.0} after the run on {Environment.ProcessorCount} CPUs: " +
                $"absolute figures are disturbed; each ratio compares engines measured one after the other under that load."));
        }

        var result = new JsonObject
        {
            ["backend"] = run.Backend,
            ["vectors"] = run.Vectors,
            ["dimensions"] = run.Dimensions,
            ["queries"] = run.Queries,
            ["data"] = DataName(run.Data),
            ["seed"] = run.Seed,
            ["k"] = BenchVectorSet.K,
            ["groundTruth"] = "exact inner-product scan by rag (float32)",
        };
        if (run.IsFaiss)
        {
            result["index"] = run.IndexFactory;
            result["efConstruction"] = run.EfConstruction;
            result["efSearch"] = run.EfSearch;
        }
        else
        {
            result["clients"] = run.Clients;
        }

        var oursJson = new JsonObject
        {
            ["engine"] = ours.Engine,
            ["buildSeconds"] = Math.Round(ours.BuildSeconds, 2),
            ["qps"] = Math.Round(ours.Qps, 1),
            ["recallAt10"] = Math.Round(ours.Recall, 4),
            ["qpsByPass"] = new JsonArray([.. ours.Passes.Select(p => (JsonNode)Math.Round(p.Qps, 1))]),
        };
        if (ours.ConcurrentQps is { } concurrentQps)
        {
            oursJson["concurrentQps"] = Math.Round(concurrentQps, 1);
            oursJson["concurrentQpsByPass"] = new JsonArray([.. ours.Passes.Select(p => (JsonNode)Math.Round(p.ConcurrentQps!.Value, 1))]);
            oursJson["concurrentRecallAt10"] = Math.Round(ours.ConcurrentRecall!.Value, 4);
            oursJson["concurrentAnswersIdentical"] = ours.ConcurrentAnswersIdentical;
        }

        var anchorJson = new JsonObject
        {
            ["engine"] = anchorName,
            ["qps"] = Math.Round(anchorQps, 1),
            ["recallAt10"] = Math.Round(anchorRecall, 4),
            ["ompThreads"] = python.GetProperty("ompThreads").GetInt32(),
            ["qpsByOmpThreads"] = JsonNode.Parse(python.GetProperty("qpsByOmpThreads").GetRawText()),
        };
        if (run.IsFaiss)
        {
            anchorJson["efSearch"] = python.GetProperty("efSearch").ValueKind == JsonValueKind.Number ? python.GetProperty("efSearch").GetInt32() : null;
        }
        else
        {
            anchorJson["batch"] = python.GetProperty("batch").GetInt32();
            anchorJson["batchQps"] = Math.Round(batchQps!.Value, 1);
            anchorJson["batchRecallAt10"] = Math.Round(python.GetProperty("batchRecallAt10").GetDouble(), 4);
        }

        var ratios = new JsonObject { ["singleQps"] = Math.Round(singleRatio, 3) };
        if (concurrentRatio is { } ratio)
        {
            ratios["concurrentQpsOverBatchQps"] = Math.Round(ratio, 3);
        }

        result["ours"] = oursJson;
        result["anchor"] = anchorJson;
        result["ratios"] = ratios;
        result["goals"] = new JsonObject
        {
            ["qpsRatio"] = GoalQpsRatio,
            ["qpsRatioMet"] = qpsMet,
            ["recallAt10"] = GoalRecall,
            ["recallMet"] = recallMet,
        };
        result["processors"] = Environment.ProcessorCount;
        result["loadAverageBefore"] = loadBefore;
        result["loadAverageAfter"] = loadAfter;
        return result;
    }

    private static string Met(bool met) => met ? "met" : "NOT met";
}
