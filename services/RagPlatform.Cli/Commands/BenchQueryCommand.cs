using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RagPlatform.Cli.Bench;
using RagPlatform.Cli.Client;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench query</c>: search latency on a fresh in-process platform holding synthetic Korean chunks — p50 and
/// p99 per mode, for one client and for many concurrent ones, hybrid beside dense-only. The result and
/// query-embedding caches are off, so every search does its full work.
/// </summary>
public static class BenchQueryCommand
{
    public const double GoalP99Milliseconds = 50;
    private const string Collection = "bench-query";
    private const int DocumentsPerRequest = 1000;
    private const int TokensPerDocument = 2100;
    private const int Seed = 20_251_122;
    private const int WarmUpQueries = 30;

    private static readonly string[] NoCaches =
    [
        "--RagPlatform:Query:ResultCacheSeconds=0",
        "--RagPlatform:Query:QueryEmbeddingCacheSeconds=0",
    ];

    public static Command Create(IReadOnlyList<string> settings)
    {
        var chunks = new Option<int>("--chunks") { Description = "Chunks in the searched collection (approximately)", HelpName = "N", DefaultValueFactory = _ => 100_000 };
        var queries = new Option<int>("--queries") { Description = "Searches per mode and client count", HelpName = "N", DefaultValueFactory = _ => 500 };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients of the loaded run", HelpName = "N", DefaultValueFactory = _ => 64 };
        var topK = new Option<int>("--top-k") { Description = "Results per search", HelpName = "K", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print only the JSON result" };
        foreach (var option in new[] { chunks, queries, clients, topK })
        {
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 1)
                {
                    r.AddError($"{r.Option.Name} must be at least 1.");
                }
            });
        }

        var command = new Command("query", "Search latency (p50/p99) per mode on synthetic Korean chunks, one client and many, " +
            "always on a fresh in-process platform. Platform settings pass through as --Section:Key=value.")
        {
            chunks, queries, clients, topK, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var directory = Path.Combine(Path.GetTempPath(), "rag-bench-query-" + Guid.NewGuid().ToString("N")[..12]);
            var log = result.GetValue(json) ? TextWriter.Null : Console.Out;
            try
            {
                await using var session = await PlatformSession.StartInProcessAsync(directory, [.. NoCaches, .. settings], cancellationToken);
                log.WriteLine($"in-process platform at {session.Server}, {Environment.ProcessorCount} CPUs; result and query-embedding caches off");
                return await MeasureAsync(session.Client, result.GetValue(chunks), result.GetValue(queries), result.GetValue(clients),
                    result.GetValue(topK), log, cancellationToken);
            }
            finally
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }, cancellationToken));
        return command;
    }

    private static async Task<int> MeasureAsync(
        RagClient client, int targetChunks, int queryCount, int clientCount, int topK, TextWriter log, CancellationToken cancellationToken)
    {
        var generator = new KoreanTextGenerator(Seed);
        var documents = Math.Max(1, (int)Math.Ceiling(targetChunks / 10.0));
        var clock = Stopwatch.StartNew();
        var jobs = new List<Guid>();
        for (var start = 0; start < documents; start += DocumentsPerRequest)
        {
            var batch = new List<DocumentInput>();
            for (var i = start; i < Math.Min(documents, start + DocumentsPerRequest); i++)
            {
                var metadata = new Dictionary<string, JsonElement> { ["seq"] = JsonSerializer.SerializeToElement(i) };
                batch.Add(new DocumentInput(string.Create(CultureInfo.InvariantCulture, $"doc-{i:D7}"), generator.Title(),
                    generator.Document(TokensPerDocument), ["bench"], metadata));
            }

            jobs.Add((await client.PostDocumentsAsync(Collection, batch, cancellationToken)).JobId);
        }

        var statuses = await JobWaiter.WaitAsync(client, jobs, TimeSpan.FromMilliseconds(200), null, cancellationToken);
        var chunks = statuses.Sum(s => s.ChunksEmbedded + s.ChunksReused);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingested {Terminal.Count(documents)} documents, {Terminal.Count(chunks)} chunks in {clock.Elapsed.TotalSeconds:0.0} s"));

        // Queries as users type them: a few nouns and a verb phrase, different from each other.
        var texts = Enumerable.Range(0, queryCount).Select(_ => generator.Title()).ToList();
        var result = new JsonObject { ["chunks"] = chunks, ["queries"] = queryCount, ["clients"] = clientCount, ["topK"] = topK };
        var modes = new JsonObject();
        log.WriteLine($"{"mode",-8} {"clients",7} {"p50 ms",9} {"p99 ms",9} {"queries/s",10}");
        foreach (var mode in new[] { SearchModes.Dense, SearchModes.Lexical, SearchModes.Hybrid })
        {
            for (var i = 0; i < WarmUpQueries; i++)
            {
                await client.SearchAsync(Collection, new SearchRequest(texts[i % texts.Count], topK, mode, null, null), cancellationToken);
            }

            var single = await RunAsync(client, texts, mode, topK, 1, cancellationToken);
            var loaded = await RunAsync(client, texts, mode, topK, clientCount, cancellationToken);
            modes[mode] = new JsonObject { ["single"] = single.Json(), ["concurrent"] = loaded.Json() };
            log.WriteLine(single.Line(mode, 1));
            log.WriteLine(loaded.Line(mode, clientCount));
        }

        result["modes"] = modes;
        result["goalP99Ms"] = GoalP99Milliseconds;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"goal: hybrid p99 <= {GoalP99Milliseconds} ms for one client"));
        Console.WriteLine(result.ToJsonString(CliJson.Options));
        return statuses.Sum(s => s.Failed) > 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    private sealed record Latencies(double P50, double P99, double QueriesPerSecond)
    {
        public JsonObject Json() => new()
        {
            ["p50Ms"] = Math.Round(P50, 2),
            ["p99Ms"] = Math.Round(P99, 2),
            ["queriesPerSecond"] = Math.Round(QueriesPerSecond, 1),
        };

        public string Line(string mode, int clients) =>
            string.Create(CultureInfo.InvariantCulture, $"{mode,-8} {clients,7} {P50,9:0.00} {P99,9:0.00} {QueriesPerSecond,10:0.0}");
    }

    private static async Task<Latencies> RunAsync(
        RagClient client, IReadOnlyList<string> texts, string mode, int topK, int clients, CancellationToken cancellationToken)
    {
        var latencies = new double[texts.Count];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < texts.Count)
            {
                var started = Stopwatch.GetTimestamp();
                await client.SearchAsync(Collection, new SearchRequest(texts[i], topK, mode, null, null), cancellationToken);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }, cancellationToken)));
        var seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Latencies(Percentile(latencies, 0.50), Percentile(latencies, 0.99), texts.Count / seconds);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
