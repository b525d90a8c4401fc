using System.CommandLine;
using RagPlatform.Client;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Ingest;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;
using Spectre.Console;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag ingest PATH...</c>: post files and folders as documents and wait for them to be embedded.</summary>
public static class IngestCommand
{
    public const string DefaultCollection = "default";

    public static Command Create(IReadOnlyList<string> settings)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Files or folders (recursive): PDF, DOCX, PPTX, XLSX, HWPX, HWP, HTML, Markdown and text files are parsed by the " +
                "server (one document each, id = path under the folder); .jsonl files hold one document per line",
            Arity = ArgumentArity.OneOrMore,
        };
        var collection = CollectionOption();
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Documents per request (the server takes at most 10,000 and 32 MB)",
            HelpName = "N",
            DefaultValueFactory = _ => 1000,
        };
        batchSize.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > DocumentUploader.MaxDocumentsPerRequest)
            {
                r.AddError($"--batch-size must be between 1 and {DocumentUploader.MaxDocumentsPerRequest}.");
            }
        });
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the server accepted the jobs, without waiting for embedding" };
        var sync = new Option<bool>("--sync")
        {
            Description = "Make the collection mirror one folder: unchanged files are skipped by content hash (not parsed, not embedded), " +
                "and the collection's documents that the folder no longer holds are deleted",
        };
        var maxFileMegabytes = new Option<int>("--max-file-mb")
        {
            Description = "Files larger than this are reported failed without being sent (the server's RagPlatform:Ingestion:MaxFileBytes)",
            HelpName = "MB",
            DefaultValueFactory = _ => (int)(FileUploader.DefaultMaxFileBytes / 1048576),
        };
        var command = new Command("ingest", "Ingest files into a collection") { paths, collection, batchSize, noWait, sync, maxFileMegabytes };
        var client = ClientOptions.AddTo(command, settings);
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var inputs = result.GetValue(paths)!;
            DocumentFileReader.CheckPaths(inputs);
            var mirror = result.GetValue(sync);
            if (mirror && (inputs.Length != 1 || !Directory.Exists(inputs[0])))
            {
                throw new UsageException("--sync takes exactly one folder: the collection is made to mirror it (documents it no longer holds are deleted).");
            }

            var json = client.IsJson(result);
            var connection = client.GetConnection(result);
            await using var session = await PlatformSession.OpenAsync(connection, cancellationToken);
            var wait = !result.GetValue(noWait);
            if (!wait && session.InProcess)
            {
                // The in-process platform stops with this command; unfinished jobs would be left behind.
                CommandRunner.Warn("--no-wait is ignored: the in-process platform must finish embedding before it stops.");
                wait = true;
            }

            var run = new IngestRun(session.Client, result.GetValue(collection)!, result.GetValue(batchSize), Terminal.ShowsProgress(json),
                Math.Max(1, result.GetValue(maxFileMegabytes)) * 1048576L);
            var summary = await run.RunAsync(DocumentFileReader.Read(inputs), wait, cancellationToken);
            if (mirror)
            {
                summary = summary with { DocumentsDeleted = await DeleteVanishedAsync(run, json, cancellationToken) };
            }
            if (!wait)
            {
                if (json)
                {
                    CliJson.WriteLine(new { collection = run.Collection, documents = summary.Documents, jobs = summary.Jobs, errors = summary.Errors });
                }
                else
                {
                    AnsiConsole.MarkupLine($"Accepted {Terminal.Count(summary.Documents - summary.Failed - summary.Skipped)} documents into [bold]{Markup.Escape(run.Collection)}[/] as {summary.Jobs.Count} job(s):");
                    foreach (var job in summary.Jobs)
                    {
                        Console.WriteLine("  " + job.ToString("D"));
                    }

                    WriteErrors(summary.Errors);
                }

                return summary.Failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
            }

            if (json)
            {
                CliJson.WriteLine(summary);
            }
            else
            {
                WriteSummary(summary);
            }

            return summary.Failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>Deletes the collection's documents the synced folder no longer holds; returns how many.</summary>
    private static async Task<int> DeleteVanishedAsync(IngestRun run, bool json, CancellationToken cancellationToken)
    {
        var deleted = await run.DeleteVanishedAsync(cancellationToken);
        if (!json)
        {
            foreach (var id in deleted)
            {
                AnsiConsole.MarkupLine($"deleted [bold]{Markup.Escape(id)}[/] (no longer in the folder)");
            }
        }

        return deleted.Count;
    }

    public static Option<string> CollectionOption() => new("--collection", "-c")
    {
        Description = "Collection name",
        HelpName = "NAME",
        DefaultValueFactory = _ => DefaultCollection,
    };

    public static void WriteSummary(IngestSummary summary)
    {
        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumn("what").AddColumn(new TableColumn("count").RightAligned());
        table.AddRow("documents", Terminal.Count(summary.Documents));
        table.AddRow("succeeded", Terminal.Count(summary.Succeeded));
        table.AddRow("unchanged", Terminal.Count(summary.Unchanged));
        if (summary.Skipped > 0)
        {
            table.AddRow("skipped", Terminal.Count(summary.Skipped));
        }

        table.AddRow(summary.Failed > 0 ? "[red]failed[/]" : "failed", Terminal.Count(summary.Failed));
        table.AddRow("chunks embedded", Terminal.Count(summary.ChunksEmbedded));
        table.AddRow("chunks reused", Terminal.Count(summary.ChunksReused));
        table.AddRow("chunks deleted", Terminal.Count(summary.ChunksDeleted));
        if (summary.DocumentsDeleted > 0)
        {
            table.AddRow("documents deleted", Terminal.Count(summary.DocumentsDeleted));
        }
        AnsiConsole.MarkupLine($"Ingested into [bold]{Markup.Escape(summary.Collection)}[/] in {Terminal.Seconds(summary.Seconds)} ({summary.Jobs.Count} job(s)):");
        AnsiConsole.Write(table);
        WriteErrors(summary.Errors);
    }

    private static void WriteErrors(IReadOnlyList<JobItemError> errors)
    {
        const int Shown = 50;
        if (errors.Count == 0)
        {
            return;
        }

        AnsiConsole.MarkupLine("[red]Errors:[/]");
        foreach (var error in errors.Take(Shown))
        {
            AnsiConsole.MarkupLine($"  [bold]{Markup.Escape(error.Id)}[/]: {Markup.Escape(error.Error)}");
        }

        if (errors.Count > Shown)
        {
            AnsiConsole.MarkupLine($"  … and {errors.Count - Shown} more (--json lists them all)");
        }
    }
}
