using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RagPlatform.Client;
using RagPlatform.Cli.Eval;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Search;
using Spectre.Console;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag eval --beir DIR</c>: ingest a BEIR dataset's corpus (a repeat costs little: unchanged documents are not
/// embedded again), run its judged queries in each mode asked for and report recall, MRR and nDCG over the
/// ranked documents (a document ranks where its best chunk does).
/// </summary>
public static class EvalCommand
{
    /// <summary>Chunks asked for per query, so that the top documents are usually all there after de-duplication.</summary>
    private const int MinimumChunkDepth = 50;

    /// <summary>The server's default RagPlatform:Query:MaxTopK.</summary>
    private const int ServerMaxTopK = 100;

    private const string AllModes = "all";

    /// <summary>The order modes are measured and shown in: each part alone, then the fusion.</summary>
    private static readonly string[] EachMode = [SearchModes.Dense, SearchModes.Lexical, SearchModes.Hybrid];

    public static Command Create(IReadOnlyList<string> settings)
    {
        var beir = new Option<string>("--beir")
        {
            Description = "BEIR dataset folder: corpus.jsonl, queries.jsonl, qrels/test.tsv",
            HelpName = "DIR",
            Required = true,
        };
        var collection = new Option<string>("--collection", "-c")
        {
            Description = "Collection to ingest into and search [default: the dataset folder's name]",
            HelpName = "NAME",
        };
        var mode = new Option<string>("--mode")
        {
            Description = "Retrieval mode to measure: all (each mode in turn), hybrid, dense or lexical",
            HelpName = "MODE",
            DefaultValueFactory = _ => AllModes,
        };
        mode.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>()?.ToLowerInvariant() is not (AllModes or SearchModes.Hybrid or SearchModes.Dense or SearchModes.Lexical))
            {
                r.AddError("--mode must be all, hybrid, dense or lexical.");
            }
        });
        var depth = new Option<int>("--k")
        {
            Description = "Cut-off of MRR and nDCG, and the largest recall cut-off",
            HelpName = "K",
            DefaultValueFactory = _ => 10,
        };
        depth.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > ServerMaxTopK)
            {
                r.AddError($"--k must be between 1 and {ServerMaxTopK}.");
            }
        });

        var folds = new Option<int>("--folds")
        {
            Description = "Also cross-validate hybrid fusion: tune its method and weights on k-1 folds of the queries, " +
                "measure on the held-out fold, pool over the folds (0: off; needs --mode all)",
            HelpName = "K",
            DefaultValueFactory = _ => 0,
        };
        folds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or 1 or > 20)
            {
                r.AddError("--folds must be 0 (off) or between 2 and 20.");
            }
        });
        var fusion = new Option<string>("--fusion")
        {
            Description = "With --folds: tune only this fusion's weights (zscore, rrf or weighted) [default: every method]",
            HelpName = "METHOD",
        };
        fusion.AcceptOnlyFromAmong("zscore", "rrf", "weighted");
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the shuffle that deals queries into folds",
            HelpName = "N",
            DefaultValueFactory = _ => 15,
        };

        var bm25 = new Option<string[]>("--bm25")
        {
            Description = "With --folds: also choose BM25's k1, b and (optionally) the query-term saturation k3 by cross-validation, among these " +
                "settings (K1:B or K1:B:K3, e.g. --bm25 1.2:0.75 0.9:0.4 1.2:0.75:1000). Each is measured on its own in-process platform " +
                "(so not with --server or RAG_SERVER)",
            HelpName = "K1:B[:K3]",
            AllowMultipleArgumentsPerToken = true,
        };
        bm25.Validators.Add(r =>
        {
            foreach (var text in r.GetValueOrDefault<string[]>() ?? [])
            {
                if (Bm25Setting.Parse(text) is null)
                {
                    r.AddError($"--bm25 '{text}' is not K1:B or K1:B:K3 with k1 between 0 and 10, b between 0 and 1 and k3 between 0 and 10000 (e.g. 1.2:0.75 or 1.2:0.75:1).");
                }
            }
        });

        var command = new Command("eval", "Measure retrieval quality on a BEIR-format dataset") { beir, collection, mode, depth, folds, fusion, seed, bm25 };
        var client = ClientOptions.AddTo(command, settings);
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var folder = result.GetValue(beir)!;
            if (!Directory.Exists(folder))
            {
                throw new UsageException($"--beir: no such directory: {folder}");
            }

            var dataset = BeirDataset.Load(folder);
            if (dataset.Queries.Count == 0)
            {
                throw new CliException($"{folder}: no query in queries.jsonl has a relevant document in qrels/test.tsv.");
            }

            var options = new EvalOptions(
                result.GetValue(collection) ?? BeirDataset.CollectionNameFor(folder),
                result.GetValue(mode)!.ToLowerInvariant(),
                result.GetValue(depth),
                client.IsJson(result),
                result.GetValue(folds),
                result.GetValue(seed),
                result.GetValue(fusion) is { } method ? FusionSettings.ParseMethod(method) : null);
            if (options.Folds > 0 && options.Mode != AllModes)
            {
                throw new UsageException("--folds needs --mode all: it fuses the dense and the lexical lists.");
            }

            if (options.Folds > dataset.Queries.Count)
            {
                throw new UsageException($"--folds {options.Folds} is more than the {dataset.Queries.Count} judged queries.");
            }
            var bm25Settings = (result.GetValue(bm25) ?? []).Select(t => Bm25Setting.Parse(t)!.Value).Distinct().ToList();
            if (bm25Settings.Count > 0)
            {
                if (options.Folds == 0)
                {
                    throw new UsageException("--bm25 needs --folds: the settings are chosen between by cross-validation.");
                }

                var connection = client.GetConnection(result);
                if (connection.ServerExplicit)
                {
                    throw new UsageException("--bm25 measures each setting on its own in-process platform: leave out --server (and RAG_SERVER).");
                }

                return await RunSettingsAsync(dataset, options, bm25Settings, connection.ConfigurationArguments, cancellationToken);
            }

            await using var session = await client.OpenAsync(result, cancellationToken);
            return await RunAsync(session.Client, dataset, options, cancellationToken);
        }, cancellationToken));
        return command;
    }

    private sealed record EvalOptions(string Collection, string Mode, int Depth, bool Json, int Folds, int Seed, FusionMethod? Fusion);

    /// <summary>What one platform answered: the ingest, each mode's metrics and search time, and each mode's lists.</summary>
    private sealed record Measurement(
        IngestSummary Ingest,
        int TopK,
        List<(string Mode, RetrievalMetrics Metrics, double Seconds)> Measured,
        Dictionary<string, List<IReadOnlyList<SearchResult>>> Lists)
    {
        public IReadOnlyList<EvaluatedQuery> Evaluated(BeirDataset dataset) =>
            [.. dataset.Queries.Select((q, i) => new EvaluatedQuery(q, Lists[SearchModes.Dense][i], Lists[SearchModes.Lexical][i]))];
    }

    private static async Task<Measurement> MeasureAsync(RagPlatformClient client, BeirDataset dataset, EvalOptions options, CancellationToken cancellationToken)
    {
        var ingest = await new IngestRun(client, options.Collection, 1000, Terminal.ShowsProgress(options.Json))
            .RunAsync(dataset.ReadCorpus(), wait: true, cancellationToken);
        if (ingest.Failed > 0)
        {
            CommandRunner.Warn($"{ingest.Failed} corpus document(s) failed to ingest (first: {ingest.Errors[0].Id}: {ingest.Errors[0].Error}); " +
                "queries whose relevant documents are among them cannot score.");
        }

        var topK = Math.Min(ServerMaxTopK, Math.Max(MinimumChunkDepth, options.Depth * 5));
        var modes = options.Mode == AllModes ? EachMode : [options.Mode];
        var measured = new List<(string Mode, RetrievalMetrics Metrics, double Seconds)>();
        var lists = new Dictionary<string, List<IReadOnlyList<SearchResult>>>(StringComparer.Ordinal);
        foreach (var mode in modes)
        {
            var metrics = new RetrievalMetrics(options.Depth);
            var searchClock = Stopwatch.StartNew();
            var kept = lists[mode] = [];
            foreach (var query in dataset.Queries)
            {
                var response = await client.SearchAsync(options.Collection, new SearchRequest(query.Text, topK, mode, null, null), cancellationToken);
                metrics.Add(response.Results.Select(r => r.DocumentId), query.Relevant);
                kept.Add(response.Results);
            }

            measured.Add((mode, metrics, searchClock.Elapsed.TotalSeconds));
        }

        return new Measurement(ingest, topK, measured, lists);
    }

    private static async Task<int> RunAsync(RagPlatformClient client, BeirDataset dataset, EvalOptions options, CancellationToken cancellationToken)
    {
        var measurement = await MeasureAsync(client, dataset, options, cancellationToken);
        var (ingest, topK, measured, _) = measurement;

        // With every mode measured, the top-level keys are hybrid's (the default mode) and "modes" has each.
        var headline = measured[^1];
        var summary = Summary(headline.Metrics, headline.Mode, options.Collection);
        if (measured.Count > 1)
        {
            var each = new JsonObject();
            foreach (var (mode, metrics, _) in measured)
            {
                each[mode] = Metrics(metrics);
            }

            summary["modes"] = each;
        }

        if (options.Folds > 0)
        {
            var (crossValidated, pooled) = CrossValidate([new EvaluatedSetting(string.Empty, measurement.Evaluated(dataset))], options);
            summary["crossValidated"] = crossValidated;
            measured.Add(("hybrid (held-out)", pooled, 0));
        }

        if (!options.Json)
        {
            WriteTable(measured.Select(m => (m.Mode, m.Metrics)).ToList());
            var skipped = dataset.UnjudgedQueries > 0 ? $" ({dataset.UnjudgedQueries} without qrels skipped)" : string.Empty;
            var searches = string.Join(", ", measured.Where(m => m.Seconds > 0).Select(m => string.Create(CultureInfo.InvariantCulture,
                $"{m.Mode} {m.Seconds:0.00} s ({m.Seconds * 1000 / m.Metrics.Queries:0.0} ms/query)")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"eval {Path.GetFileName(dataset.Directory)}: collection {options.Collection}, mode {options.Mode}, {headline.Metrics.Queries} queries{skipped}; " +
                $"corpus {ingest.Documents} documents ({ingest.Succeeded} embedded, {ingest.Unchanged} unchanged, {ingest.Failed} failed, " +
                $"{ingest.ChunksEmbedded} chunks embedded) in {ingest.Seconds:0.00} s; " +
                $"search {searches}, top {topK} chunks"));
        }

        // The last line is the machine-readable result, with or without --json.
        Console.WriteLine(summary.ToJsonString(CliJson.Options));
        return ingest.Failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    /// <summary>Cross-validates over the settings' lists, prints each fold's choice (unless --json) and returns the JSON and the pooled metrics.</summary>
    private static (JsonObject Json, RetrievalMetrics Pooled) CrossValidate(IReadOnlyList<EvaluatedSetting> settings, EvalOptions options)
    {
        var grid = options.Fusion is { } only ? FusionCrossValidation.Grid.Where(g => g.Method == only).ToList() : null;
        var (folds, pooled) = FusionCrossValidation.Run(settings, options.Folds, options.Seed, options.Depth, grid);
        var perFold = new JsonArray();
        foreach (var fold in folds)
        {
            var entry = Metrics(fold.HeldOut);
            entry["fold"] = fold.Fold;
            entry["queries"] = fold.HeldOut.Queries;
            entry["chosen"] = fold.Chosen.ToString();
            perFold.Add(entry);
            if (!options.Json)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"fold {fold.Fold}: {fold.HeldOut.Queries} held-out queries, tuned on the rest: {fold.Chosen}; " +
                    $"held-out recall@1 {fold.HeldOut.Recall(1):0.0000}, nDCG@{fold.HeldOut.Depth} {fold.HeldOut.Ndcg:0.0000}"));
            }
        }

        var json = Metrics(pooled);
        json["folds"] = options.Folds;
        json["seed"] = options.Seed;
        json["fusion"] = options.Fusion?.ToString().ToLowerInvariant() ?? "any";
        json["perFold"] = perFold;
        return (json, pooled);
    }

    /// <summary>
    /// <c>--bm25</c>: the dataset measured on one fresh in-process platform per BM25 setting (the lexical index
    /// scores with k1 and b of the process), then the setting and the fusion chosen together by cross-validation.
    /// Each platform's data directory is a temporary folder, deleted afterwards.
    /// </summary>
    private static async Task<int> RunSettingsAsync(
        BeirDataset dataset, EvalOptions options, IReadOnlyList<Bm25Setting> bm25, IReadOnlyList<string> platformArguments, CancellationToken cancellationToken)
    {
        var evaluated = new List<EvaluatedSetting>(bm25.Count);
        var each = new JsonArray();
        var failed = false;
        foreach (var setting in bm25)
        {
            var directory = Path.Combine(Path.GetTempPath(), "rag-eval-" + Guid.NewGuid().ToString("N")[..12]);
            try
            {
                Measurement measurement;
                await using (var session = await PlatformSession.StartInProcessAsync(directory, [.. platformArguments, .. setting.Arguments], cancellationToken))
                {
                    measurement = await MeasureAsync(session.Client, dataset, options, cancellationToken);
                }

                failed |= measurement.Ingest.Failed > 0;
                evaluated.Add(new EvaluatedSetting(setting.ToString(), measurement.Evaluated(dataset)));
                var entry = new JsonObject { ["k1"] = setting.K1, ["b"] = setting.B };
                if (setting.K3 is { } k3)
                {
                    entry["k3"] = k3;
                }

                foreach (var (mode, metrics, _) in measurement.Measured)
                {
                    entry[mode] = Metrics(metrics);
                }

                each.Add(entry);
                if (!options.Json)
                {
                    Console.WriteLine($"{setting}: " + string.Join("; ", measurement.Measured.Select(m => string.Create(CultureInfo.InvariantCulture,
                        $"{m.Mode} recall@1 {m.Metrics.Recall(1):0.0000}, nDCG@{m.Metrics.Depth} {m.Metrics.Ndcg:0.0000}"))));
                }
            }
            finally
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }

        var (crossValidated, pooled) = CrossValidate(evaluated, options);
        if (!options.Json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held-out hybrid ({options.Folds} folds, seed {options.Seed}, BM25 setting and fusion chosen on the other folds): " +
                $"recall@1 {pooled.Recall(1):0.0000}, recall@5 {(pooled.RecallCutoffs.Contains(5) ? pooled.Recall(5) : double.NaN):0.0000}, nDCG@{pooled.Depth} {pooled.Ndcg:0.0000}"));
        }

        var summary = new JsonObject
        {
            ["collection"] = options.Collection,
            ["queries"] = dataset.Queries.Count,
            ["bm25"] = each,
            ["crossValidated"] = crossValidated,
        };
        Console.WriteLine(summary.ToJsonString(CliJson.Options));
        return failed ? ExitCodes.Failure : ExitCodes.Ok;
    }

    private static JsonObject Summary(RetrievalMetrics metrics, string mode, string collection)
    {
        var json = Metrics(metrics);
        json["mode"] = mode;
        json["queries"] = metrics.Queries;
        json["collection"] = collection;
        return json;
    }

    private static JsonObject Metrics(RetrievalMetrics metrics)
    {
        var json = new JsonObject();
        foreach (var cutoff in metrics.RecallCutoffs)
        {
            json[$"recall@{cutoff}"] = Round(metrics.Recall(cutoff));
        }

        json[$"mrr@{metrics.Depth}"] = Round(metrics.MeanReciprocalRank);
        json[$"ndcg@{metrics.Depth}"] = Round(metrics.Ndcg);
        return json;
    }

    private static double Round(double value) => Math.Round(value, 4, MidpointRounding.AwayFromZero);

    /// <summary>One row per metric, one column per mode, so the gain of each part reads across.</summary>
    private static void WriteTable(IReadOnlyList<(string Mode, RetrievalMetrics Metrics)> measured)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("metric");
        foreach (var (mode, _) in measured)
        {
            table.AddColumn(new TableColumn(mode).RightAligned());
        }

        var first = measured[0].Metrics;
        foreach (var cutoff in first.RecallCutoffs)
        {
            table.AddRow([$"recall@{cutoff}", .. measured.Select(m => Format(m.Metrics.Recall(cutoff)))]);
        }

        table.AddRow([$"MRR@{first.Depth}", .. measured.Select(m => Format(m.Metrics.MeanReciprocalRank))]);
        table.AddRow([$"nDCG@{first.Depth}", .. measured.Select(m => Format(m.Metrics.Ndcg))]);
        AnsiConsole.Write(table);
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}
