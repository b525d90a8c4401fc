using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Plugins;
using RagPlatform.Sdk;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench embed</c>: throughput of the local "onnx" provider on a model folder and a file of texts, in
/// texts/s and tokens/s, loaded through the plugin exactly as the embedding worker loads it. With
/// <c>--anchor</c> (tjs_embed.mjs, the transformers.js harness) the same model and texts run through
/// transformers.js in the same invocation: its texts/s, our ratio to it, and the per-text cosine between the
/// two vector sets.
/// </summary>
public static class BenchEmbedCommand
{
    public const double GoalRatio = 1.8;
    private const string Provider = "onnx";
    private const int WarmUpTexts = 32;

    public static Command Create(IReadOnlyList<string> settings)
    {
        var model = new Option<string>("--model") { Description = "Model folder (Hugging Face layout: onnx/model.onnx, tokenizer.json, config.json)", HelpName = "DIR", Required = true };
        var texts = new Option<string>("--texts") { Description = "Texts, one JSON string per line (make_texts.py's format)", HelpName = "FILE", Required = true };
        var anchor = new Option<string>("--anchor") { Description = "tjs_embed.mjs (transformers.js anchor, run with node in the same invocation)", HelpName = "FILE" };
        var anchorBatch = new Option<int>("--anchor-batch") { Description = "Batch size the anchor uses, as its users call it", HelpName = "N", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads of our session (0: one per core)", HelpName = "N", DefaultValueFactory = _ => 0 };
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "Token budget of one batch (rows × padded length)", HelpName = "N", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print only the JSON result" };
        var command = new Command("embed", "Local ONNX embedding throughput (texts/s, tokens/s), optionally beside the transformers.js anchor on the " +
            "same model and texts (ratio and per-text cosine). Provider settings pass through as --RagPlatform:Embedding:Providers:onnx:Key=value.")
        {
            model, texts, anchor, anchorBatch, threads, maxBatchTokens, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(() => RunAsync(
            Path.GetFullPath(result.GetValue(model)!),
            Path.GetFullPath(result.GetValue(texts)!),
            result.GetValue(anchor) is { } a ? Path.GetFullPath(a) : null,
            result.GetValue(anchorBatch),
            result.GetValue(threads),
            result.GetValue(maxBatchTokens),
            result.GetValue(json),
            settings,
            cancellationToken), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string modelDirectory, string textsFile, string? anchor, int anchorBatch, int threads, int maxBatchTokens, bool json,
        IReadOnlyList<string> settings, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(modelDirectory))
        {
            throw new UsageException($"--model: {modelDirectory} is not a folder.");
        }

        if (anchor is not null && !File.Exists(anchor))
        {
            throw new UsageException($"--anchor: {anchor} does not exist.");
        }

        var texts = ReadTexts(textsFile);
        var log = json ? TextWriter.Null : Console.Out;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "rag-bench-embed-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var overrides = new Dictionary<string, string?> { ["ModelPath"] = modelDirectory };
            if (threads > 0)
            {
                overrides["IntraOpThreads"] = threads.ToString(CultureInfo.InvariantCulture);
            }

            if (maxBatchTokens > 0)
            {
                overrides["MaxBatchTokens"] = maxBatchTokens.ToString(CultureInfo.InvariantCulture);
            }

            var configuration = new ConfigurationBuilder().AddCommandLine([.. settings]).Build();
            var options = Options.Create(new RagPlatformOptions { DataDirectory = dataDirectory });
            var catalog = new PluginCatalog(options.Value.Plugins.ResolveDirectory(), [], NullLogger<PluginCatalog>.Instance);
            await using var plugins = new PluginHost(catalog, configuration, options, NullLoggerFactory.Instance);
            var loading = Stopwatch.StartNew();
            var provider = await plugins.GetEmbeddingProviderAsync(new EmbeddingSelection(Provider, overrides), cancellationToken);
            var loadSeconds = loading.Elapsed.TotalSeconds;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{texts.Count} texts from {textsFile}; model {provider.Fingerprint} loaded in {loadSeconds:0.00} s; {Environment.ProcessorCount} CPUs"));

            // Warm-up: JIT, the session's first runs and its memory arena.
            await EmbedAllAsync(provider, texts.Take(WarmUpTexts).ToList(), cancellationToken);

            var loadBefore = LoadAverage();
            var clock = Stopwatch.StartNew();
            var ours = await EmbedAllAsync(provider, texts, cancellationToken);
            var seconds = clock.Elapsed.TotalSeconds;
            var failures = ours.Count(r => !r.Succeeded);
            if (failures > 0)
            {
                throw new CliException($"{failures} text(s) failed to embed, e.g. {ours.First(r => !r.Succeeded).Error}");
            }

            var tokens = ours.Sum(r => (long)r.Tokens);
            var textsPerSecond = texts.Count / seconds;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ours        {textsPerSecond,10:0.0} texts/s {tokens / seconds,10:0} tokens/s   ({seconds:0.00} s, {tokens} tokens)"));
            var result = new JsonObject
            {
                ["texts"] = texts.Count,
                ["model"] = provider.Fingerprint.ToString(),
                ["seconds"] = Math.Round(seconds, 3),
                ["textsPerSecond"] = Math.Round(textsPerSecond, 1),
                ["tokensPerSecond"] = Math.Round(tokens / seconds, 0),
                ["processors"] = Environment.ProcessorCount,
            };

            if (anchor is not null)
            {
                var (anchorTextsPerSecond, anchorVectors) = await RunAnchorAsync(anchor, modelDirectory, textsFile, anchorBatch, dataDirectory, cancellationToken);
                var ratio = textsPerSecond / anchorTextsPerSecond;
                if (anchorVectors.Count != texts.Count)
                {
                    throw new CliException($"the anchor returned {anchorVectors.Count} vectors for {texts.Count} texts.");
                }

                var cosines = ours.Select((r, i) => (double)TensorPrimitives.CosineSimilarity(r.Vector!, anchorVectors[i])).ToArray();
                var worst = Array.IndexOf(cosines, cosines.Min());
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"anchor      {anchorTextsPerSecond,10:0.0} texts/s   (transformers.js, batch {anchorBatch})"));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio       {ratio,10:0.00}   (ours / transformers.js; goal {GoalRatio:0.0})"));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"cosine      min {cosines.Min():0.000000} (text {worst}), mean {cosines.Average():0.000000}   (goal: each >= 0.9999)"));
                result["anchorTextsPerSecond"] = Math.Round(anchorTextsPerSecond, 1);
                result["anchorBatch"] = anchorBatch;
                result["ratio"] = Math.Round(ratio, 2);
                result["cosineMin"] = Math.Round(cosines.Min(), 6);
                result["cosineMean"] = Math.Round(cosines.Average(), 6);
            }

            var loadAfter = LoadAverage();
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

    /// <summary>
    /// Sends the texts as concurrent calls of the provider's batch size, as the worker's consumers do: the
    /// provider's batcher gathers them, sorts by length and cuts token-budget batches.
    /// </summary>
    private static async Task<List<EmbeddingResult>> EmbedAllAsync(IEmbeddingProvider provider, List<string> texts, CancellationToken cancellationToken)
    {
        var calls = texts.Chunk(Math.Max(1, provider.MaxBatchSize))
            .Select(chunk => provider.EmbedAsync(chunk, EmbeddingPurpose.Document, cancellationToken));
        return [.. (await Task.WhenAll(calls)).SelectMany(r => r)];
    }

    private static async Task<(double TextsPerSecond, List<float[]> Vectors)> RunAnchorAsync(
        string script, string modelDirectory, string textsFile, int batch, string scratch, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(scratch);
        var vectorsFile = Path.Combine(scratch, "anchor-vectors.json");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        foreach (var argument in new[] { script, modelDirectory, textsFile, batch.ToString(CultureInfo.InvariantCulture), vectorsFile })
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

            var summary = (await output).Trim().Split('\n')[^1];
            var textsPerSecond = JsonDocument.Parse(summary).RootElement.GetProperty("texts_per_s").GetDouble();
            await using var stream = File.OpenRead(vectorsFile);
            var vectors = await JsonSerializer.DeserializeAsync<List<float[]>>(stream, cancellationToken: cancellationToken) ?? [];
            return (textsPerSecond, vectors);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    internal static List<string> ReadTexts(string file)
    {
        if (!File.Exists(file))
        {
            throw new UsageException($"--texts: {file} does not exist.");
        }

        var texts = new List<string>();
        var line = 0;
        foreach (var text in File.ReadLines(file))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                texts.Add(JsonSerializer.Deserialize<string>(text) ?? throw new JsonException("null"));
            }
            catch (JsonException ex)
            {
                throw new UsageException($"--texts: line {line} of {file} is not a JSON string ({ex.Message}).");
            }
        }

        return texts.Count > 0 ? texts : throw new UsageException($"--texts: {file} holds no texts.");
    }

    internal static double? LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
