using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagPlatform.Cli.Bench;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench rerank</c>: the "onnx" cross-encoder reranker on a model folder, loaded through the plugin as the query
/// API loads it, reranking searches' candidates one search at a time: pairs/s and the latency of one search's
/// candidates (p50, p99). With <c>--anchor</c> (the folder where transformers.js is installed, e.g. by
/// ../shared/bench/setup-anchor.sh) transformers.js's text-classification pipeline scores the same model and pairs
/// in the same invocation: its pairs/s and latencies, our ratio, and the largest score difference.
/// </summary>
public static class BenchRerankCommand
{
    public const double GoalRatio = 1.8;
    private const string AnchorResource = "RagPlatform.Cli.Bench.tjs_rerank.mjs";

    public static Command Create(IReadOnlyList<string> settings)
    {
        var model = new Option<string>("--model") { Description = "Cross-encoder folder (Hugging Face layout: onnx/model.onnx with a logits output, tokenizer.json, config.json)", HelpName = "DIR", Required = true };
        var texts = new Option<string>("--texts") { Description = "Passages, one JSON string per line (make_texts.py's format)", HelpName = "FILE", Required = true };
        var queries = new Option<string>("--queries") { Description = "Queries, one JSON string per line [default: phrases cut from the passages]", HelpName = "FILE" };
        var requests = new Option<int>("--requests") { Description = "Searches to rerank", HelpName = "N", DefaultValueFactory = _ => 20 };
        var candidates = new Option<int>("--candidates") { Description = "Candidates per search", HelpName = "N", DefaultValueFactory = _ => 50 };
        var anchor = new Option<string>("--anchor") { Description = "Folder with transformers.js installed (node_modules/@huggingface/transformers): run the anchor in the same invocation", HelpName = "DIR" };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads of our session (0: one per core)", HelpName = "N", DefaultValueFactory = _ => 0 };
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "Token budget of one batch (rows × padded length) [default: the plugin's]", HelpName = "N", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print only the JSON result" };
        var command = new Command("rerank", "Local ONNX cross-encoder reranking throughput (pairs/s) and per-search latency, optionally beside transformers.js's " +
            "text-classification pipeline on the same model and pairs. Reranker settings pass through as --RagPlatform:Query:Rerankers:onnx:Key=value.")
        {
            model, texts, queries, requests, candidates, anchor, threads, maxBatchTokens, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(() => RunAsync(
            Path.GetFullPath(result.GetValue(model)!),
            Path.GetFullPath(result.GetValue(texts)!),
            result.GetValue(queries) is { } q ? Path.GetFullPath(q) : null,
            result.GetValue(requests),
            result.GetValue(candidates),
            result.GetValue(anchor) is { } a ? Path.GetFullPath(a) : null,
            result.GetValue(threads),
            result.GetValue(maxBatchTokens),
            result.GetValue(json),
            settings,
            cancellationToken), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string modelDirectory, string textsFile, string? queriesFile, int requestCount, int candidateCount, string? anchor, int threads, int maxBatchTokens,
        bool json, IReadOnlyList<string> settings, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(modelDirectory))
        {
            throw new UsageException($"--model: {modelDirectory} is not a folder.");
        }

        if (requestCount < 1 || candidateCount < 1)
        {
            throw new UsageException("--requests and --candidates must be at least 1.");
        }

        if (anchor is not null && !Directory.Exists(Path.Combine(anchor, "node_modules", "@huggingface", "transformers")))
        {
            throw new UsageException($"--anchor: {anchor} has no node_modules/@huggingface/transformers (install it with ../shared/bench/setup-anchor.sh {anchor}).");
        }

        var passages = BenchEmbedCommand.ReadTexts(textsFile);
        var queries = queriesFile is null ? null : BenchEmbedCommand.ReadTexts(queriesFile);
        var searches = MakeSearches(passages, queries, requestCount, candidateCount);
        var log = json ? TextWriter.Null : Console.Out;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rag-bench-rerank-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var configuration = new ConfigurationBuilder().AddCommandLine([.. settings]).AddInMemoryCollection(Overrides(modelDirectory, threads, maxBatchTokens)).Build();
            var options = Options.Create(new RagPlatformOptions { DataDirectory = dataDirectory });
            var catalog = new PluginCatalog(options.Value.Plugins.ResolveDirectory(), [], NullLogger<PluginCatalog>.Instance);
            await using var plugins = new PluginHost(catalog, configuration, options, NullLoggerFactory.Instance);
            var loading = Stopwatch.StartNew();
            var reranker = await plugins.GetRerankerAsync("onnx", cancellationToken);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{searches.Count} searches × {candidateCount} candidates from {textsFile} (mean {searches.SelectMany(s => s.Passages).Average(p => p.Length):0} chars); model loaded in {loading.Elapsed.TotalSeconds:0.00} s; {Environment.ProcessorCount} CPUs"));

            // Warm-up: JIT, the session's first runs and its memory arena.
            await reranker.ScoreAsync(searches[0].Query, Candidates(searches[0]), cancellationToken);

            var loadBefore = BenchEmbedCommand.LoadAverage();
            var latencies = new LatencySample();
            var ours = new List<IReadOnlyList<float>>(searches.Count);
            var clock = Stopwatch.StartNew();
            foreach (var search in searches)
            {
                var started = Stopwatch.GetTimestamp();
                ours.Add(await reranker.ScoreAsync(search.Query, Candidates(search), cancellationToken));
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            var seconds = clock.Elapsed.TotalSeconds;
            var pairs = searches.Sum(s => s.Passages.Count);
            var pairsPerSecond = pairs / seconds;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ours        {pairsPerSecond,10:0.0} pairs/s   p50 {latencies.Percentile(0.5),8:0.0} ms   p99 {latencies.Percentile(0.99),8:0.0} ms per search of {candidateCount}"));
            var result = new JsonObject
            {
                ["searches"] = searches.Count,
                ["candidates"] = candidateCount,
                ["pairsPerSecond"] = Math.Round(pairsPerSecond, 1),
                ["p50Ms"] = Math.Round(latencies.Percentile(0.5), 1),
                ["p99Ms"] = Math.Round(latencies.Percentile(0.99), 1),
                ["processors"] = Environment.ProcessorCount,
            };

            if (anchor is not null)
            {
                var (anchorPairsPerSecond, anchorLatencies, anchorScores) = await RunAnchorAsync(anchor, modelDirectory, searches, dataDirectory, cancellationToken);
                var ratio = pairsPerSecond / anchorPairsPerSecond;
                var difference = 0.0;
                for (var s = 0; s < searches.Count; s++)
                {
                    for (var c = 0; c < ours[s].Count; c++)
                    {
                        difference = Math.Max(difference, Math.Abs(ours[s][c] - anchorScores[s][c]));
                    }
                }

                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"anchor      {anchorPairsPerSecond,10:0.0} pairs/s   p50 {anchorLatencies.Percentile(0.5),8:0.0} ms   p99 {anchorLatencies.Percentile(0.99),8:0.0} ms   (transformers.js text-classification, one call per search)"));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio       {ratio,10:0.00}   (ours / transformers.js pairs/s; goal {GoalRatio:0.0})"));
                var all = ours.SelectMany(o => o).ToList();
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"scores      largest difference {difference:0.000000} over {pairs} pairs (ours from {all.Min():0.0000} to {all.Max():0.0000})"));
                result["anchorPairsPerSecond"] = Math.Round(anchorPairsPerSecond, 1);
                result["anchorP50Ms"] = Math.Round(anchorLatencies.Percentile(0.5), 1);
                result["anchorP99Ms"] = Math.Round(anchorLatencies.Percentile(0.99), 1);
                result["ratio"] = Math.Round(ratio, 2);
                result["scoreMaxDifference"] = Math.Round(difference, 6);
            }

            var loadAfter = BenchEmbedCommand.LoadAverage();
            result["loadAverage"] = loadAfter is null ? null : Math.Round(loadAfter.Value, 1);
            if (Math.Max(loadBefore ?? 0, loadAfter ?? 0) > Environment.ProcessorCount)
            {
                CommandRunner.Warn(string.Create(CultureInfo.InvariantCulture,
                    $"the machine's load average was {loadBefore:0.0} before and {loadAfter:0.0} after on {Environment.ProcessorCount} CPUs: other processes competed for the CPUs; compare the ratio, not the absolute figures."));
            }

            Console.WriteLine(result.ToJsonString(CliJson.Options));
            return ExitCodes.Ok;
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static Dictionary<string, string?> Overrides(string modelDirectory, int threads, int maxBatchTokens)
    {
        const string section = "RagPlatform:Query:Rerankers:onnx:";
        var overrides = new Dictionary<string, string?> { [section + "ModelPath"] = modelDirectory };
        if (threads > 0)
        {
            overrides[section + "IntraOpThreads"] = threads.ToString(CultureInfo.InvariantCulture);
        }

        if (maxBatchTokens > 0)
        {
            overrides[section + "MaxBatchTokens"] = maxBatchTokens.ToString(CultureInfo.InvariantCulture);
        }

        return overrides;
    }

    /// <summary>
    /// Searches of <paramref name="candidates"/> passages each, taken in turn from the file (so every search reads
    /// different passages); the query is the next given one, or a phrase cut from one of the search's own passages.
    /// </summary>
    internal static List<BenchSearch> MakeSearches(List<string> passages, List<string>? queries, int count, int candidates)
    {
        var searches = new List<BenchSearch>(count);
        var random = new Random(16);
        for (var s = 0; s < count; s++)
        {
            var chosen = Enumerable.Range(0, candidates).Select(c => passages[((s * candidates) + c) % passages.Count]).ToList();
            string query;
            if (queries is { Count: > 0 })
            {
                query = queries[s % queries.Count];
            }
            else
            {
                var source = chosen[random.Next(chosen.Count)];
                var start = random.Next(Math.Max(1, source.Length - 40));
                query = source.Substring(start, Math.Min(40, source.Length - start)).Trim();
            }

            searches.Add(new BenchSearch(query, chosen));
        }

        return searches;
    }

    private static List<RerankCandidate> Candidates(BenchSearch search) =>
        [.. search.Passages.Select((p, i) => new RerankCandidate("c" + i.ToString(CultureInfo.InvariantCulture), null, p))];

    private static async Task<(double PairsPerSecond, LatencySample Latencies, List<float[]> Scores)> RunAnchorAsync(
        string anchor, string modelDirectory, List<BenchSearch> searches, string scratch, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(scratch);
        var script = Path.Combine(anchor, "tjs_rerank.mjs");
        await using (var resource = typeof(BenchRerankCommand).Assembly.GetManifestResourceStream(AnchorResource)
            ?? throw new CliException("the transformers.js anchor script is missing from the CLI."))
        await using (var file = File.Create(script))
        {
            await resource.CopyToAsync(file, cancellationToken);
        }

        var requestsFile = Path.Combine(scratch, "requests.json");
        var outFile = Path.Combine(scratch, "anchor-scores.json");
        await File.WriteAllTextAsync(requestsFile, JsonSerializer.Serialize(searches.Select(s => new { query = s.Query, passages = s.Passages })), cancellationToken);
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = anchor };
        foreach (var argument in new[] { script, modelDirectory, requestsFile, outFile })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new CliException("could not start node for the anchor.");
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new CliException($"the anchor (node {script}) exited with {process.ExitCode}: {(await error).Trim()}");
            }

            var summary = JsonDocument.Parse((await output).Trim().Split('\n')[^1]).RootElement;
            using var results = JsonDocument.Parse(await File.ReadAllBytesAsync(outFile, cancellationToken));
            var latencies = new LatencySample();
            foreach (var latency in results.RootElement.GetProperty("latencies").EnumerateArray())
            {
                latencies.Add(latency.GetDouble());
            }

            var scores = results.RootElement.GetProperty("scores").EnumerateArray().Select(s => s.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
            return (summary.GetProperty("pairs_per_s").GetDouble(), latencies, scores);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>One search to rerank: its query and its candidates' texts.</summary>
    internal sealed record BenchSearch(string Query, List<string> Passages);
}
