using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RagPlatform.Cli.Client;
using RagPlatform.Cli.Eval;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;
using Spectre.Console;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag eval --beir DIR</c>: ingest a BEIR dataset's corpus (a repeat costs little: unchanged documents are not
/// embedded again), run its judged queries and report recall, MRR and nDCG over the ranked documents.
/// </summary>
public static class EvalCommand
{
    /// <summary>Chunks asked for per query, so that the top documents are usually all there after de-duplication.</summary>
    private const int MinimumChunkDepth = 50;

    /// <summary>The server's default RagPlatform:Query:MaxTopK.</summary>
    private const int ServerMaxTopK = 100;

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
        var mode = SearchCommand.ModeOption();
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

        var command = new Command("eval", "Measure retrieval quality on a BEIR-format dataset") { beir, collection, mode, depth };
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
                result.GetValue(mode)!,
                result.GetValue(depth),
                client.IsJson(result));
            await using var session = await client.OpenAsync(result, cancellationToken);
            return await RunAsync(session.Client, dataset, options, cancellationToken);
        }, cancellationToken));
        return command;
    }

    private sealed record EvalOptions(string Collection, string Mode, int Depth, bool Json);

    private static async Task<int> RunAsync(RagClient client, BeirDataset dataset, EvalOptions options, CancellationToken cancellationToken)
    {
        var ingest = await new IngestRun(client, options.Collection, 1000, Terminal.ShowsProgress(options.Json))
            .RunAsync(dataset.ReadCorpus(), wait: true, cancellationToken);
        if (ingest.Failed > 0)
        {
            CommandRunner.Warn($"{ingest.Failed} corpus document(s) failed to ingest (first: {ingest.Errors[0].Id}: {ingest.Errors[0].Error}); " +
                "queries whose relevant documents are among them cannot score.");
        }

        var metrics = new RetrievalMetrics(options.Depth);
        var topK = Math.Min(ServerMaxTopK, Math.Max(MinimumChunkDepth, options.Depth * 5));
        var searchClock = Stopwatch.StartNew();
        foreach (var query in dataset.Queries)
        {
            var response = await client.SearchAsync(options.Collection, new SearchRequest(query.Text, topK, options.Mode, null, null), cancellationToken);
            metrics.Add(response.Results.Select(r => r.DocumentId), query.Relevant);
        }

        var searchSeconds = searchClock.Elapsed.TotalSeconds;
        var summary = Summary(metrics, options);
        if (!options.Json)
        {
            WriteTable(metrics);
            var skipped = dataset.UnjudgedQueries > 0 ? $" ({dataset.UnjudgedQueries} without qrels skipped)" : string.Empty;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"eval {Path.GetFileName(dataset.Directory)}: collection {options.Collection}, mode {options.Mode}, {metrics.Queries} queries{skipped}; " +
                $"corpus {ingest.Documents} documents ({ingest.Succeeded} embedded, {ingest.Unchanged} unchanged, {ingest.Failed} failed, " +
                $"{ingest.ChunksEmbedded} chunks embedded) in {ingest.Seconds:0.00} s; " +
                $"search {searchSeconds:0.00} s ({searchSeconds * 1000 / metrics.Queries:0.0} ms/query, top {topK} chunks)"));
        }

        // The last line is the machine-readable result, with or without --json.
        Console.WriteLine(summary.ToJsonString(CliJson.Options));
        return ingest.Failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    private static JsonObject Summary(RetrievalMetrics metrics, EvalOptions options)
    {
        var json = new JsonObject();
        foreach (var cutoff in metrics.RecallCutoffs)
        {
            json[$"recall@{cutoff}"] = Round(metrics.Recall(cutoff));
        }

        json[$"mrr@{metrics.Depth}"] = Round(metrics.MeanReciprocalRank);
        json[$"ndcg@{metrics.Depth}"] = Round(metrics.Ndcg);
        json["mode"] = options.Mode;
        json["queries"] = metrics.Queries;
        json["collection"] = options.Collection;
        return json;
    }

    private static double Round(double value) => Math.Round(value, 4, MidpointRounding.AwayFromZero);

    private static void WriteTable(RetrievalMetrics metrics)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        foreach (var cutoff in metrics.RecallCutoffs)
        {
            table.AddRow($"recall@{cutoff}", Format(metrics.Recall(cutoff)));
        }

        table.AddRow($"MRR@{metrics.Depth}", Format(metrics.MeanReciprocalRank));
        table.AddRow($"nDCG@{metrics.Depth}", Format(metrics.Ndcg));
        AnsiConsole.Write(table);
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}
