using System.CommandLine;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Cli.Vectors;
using RagPlatform.Core.Collections;
using RagPlatform.Core.Errors;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag migrate</c>: copies a collection's points from one vector backend to another (resumable), verifies counts
/// and sample queries, and with <c>--switch</c> points the collection at the new backend. Documents, chunks and the
/// lexical index live in the metadata store and lexical index, which a backend migration does not touch.
/// </summary>
public static class MigrateCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var collection = VectorCommandOptions.Collection();
        var from = new Option<string>("--from") { Description = "Source vector backend (embedded, faiss, pgvector, …)", HelpName = "BACKEND", Required = true };
        var fromSettings = new Option<string[]>("--from-setting") { Description = "Source backend setting Key=Value, over the platform's configuration (repeatable)", HelpName = "KEY=VALUE" };
        var to = new Option<string>("--to") { Description = "Target vector backend", HelpName = "BACKEND", Required = true };
        var toSettings = new Option<string[]>("--to-setting") { Description = "Target backend setting Key=Value (repeatable)", HelpName = "KEY=VALUE" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file (default: <data-dir>/migrations/<collection>-<from>-<to>.json)", HelpName = "FILE" };
        var batchSize = new Option<int>("--batch-size") { Description = "Points per batch (one checkpoint per batch)", HelpName = "N", DefaultValueFactory = _ => 500 };
        var samples = new Option<int>("--samples") { Description = "Stored vectors used as verification queries", HelpName = "N", DefaultValueFactory = _ => 20 };
        var maxPoints = new Option<long?>("--max-points") { Description = "Copy at most about N points in this run, then stop (run again to resume)", HelpName = "N" };
        var switchBackend = new Option<bool>("--switch") { Description = "After a verified copy, set the collection's vectorBackend to the target in the metadata store" };
        var dataDirectory = VectorCommandOptions.DataDirectory();
        var json = VectorCommandOptions.Json();
        VectorCommandOptions.AtLeastOne(batchSize, samples);

        var command = new Command("migrate", "Copy a collection's vectors to another backend (resumable), then verify counts and sample queries. " +
            "Runs on the data directory directly: stop the services that use it first.")
        {
            collection, from, fromSettings, to, toSettings, checkpoint, batchSize, samples, maxPoints, switchBackend, dataDirectory, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var name = VectorCommandOptions.ValidCollection(result.GetValue(collection));
            var source = BackendSelection.Parse(result.GetValue(from)!, result.GetValue(fromSettings), "--from");
            var target = BackendSelection.Parse(result.GetValue(to)!, result.GetValue(toSettings), "--to");
            if (string.Equals(source.Name, target.Name, StringComparison.OrdinalIgnoreCase) && source.Settings.Count == 0 && target.Settings.Count == 0)
            {
                throw new UsageException("--from and --to name the same store; give one of them other settings (e.g. --to-setting Path=…).");
            }

            var directory = result.GetValue(dataDirectory)!;
            var checkpointPath = result.GetValue(checkpoint)
                ?? Path.Combine(directory, "migrations", $"{name}-{source.Name}-{target.Name}.json");
            var log = result.GetValue(json) ? TextWriter.Null : Console.Out;

            await using var platform = await OfflinePlatform.OpenAsync(directory, settings, cancellationToken);
            // A re-indexed collection's vectors live in its active version's backend collection (name__vN).
            var vectorName = (await platform.Store.GetCollectionAsync(name, cancellationToken))?.VectorName ?? name;
            var migration = new VectorMigration(
                await platform.OpenBackendAsync(source, cancellationToken),
                await platform.OpenBackendAsync(target, cancellationToken),
                new MigrationOptions(vectorName, source.ToString(), target.ToString(), checkpointPath, result.GetValue(batchSize), result.GetValue(samples),
                    MaxPoints: result.GetValue(maxPoints)),
                log);
            var report = await migration.RunAsync(cancellationToken);

            var switched = false;
            if (report.Verified && result.GetValue(switchBackend))
            {
                var record = await platform.Store.GetCollectionAsync(name, cancellationToken)
                    ?? throw new CliException($"the copy is verified, but the metadata store has no collection '{name}' to switch.");
                await platform.Store.UpdateCollectionAsync(name, record.Settings with { VectorBackend = target.Name }, record.Fingerprint, cancellationToken);
                switched = true;
            }

            if (result.GetValue(json))
            {
                CliJson.WriteLine(new { report, verified = report.Verified, switched });
            }
            else
            {
                Console.WriteLine($"{report.Collection}: {report.From} → {report.To}, {report.Fingerprint}");
                Console.WriteLine($"points: source {report.SourceCount:N0}, target {report.TargetCount:N0} (copied {report.Copied:N0} in this run" +
                    (report.Resumed ? $", {report.Skipped:N0} already copied before" : string.Empty) + $") in {report.Seconds:0.0} s");
                if (report.Completed)
                {
                    Console.WriteLine($"sample queries: {report.SamplesIdentical}/{report.Samples} identical top-10, " +
                        $"{report.SamplesSameUpToTies}/{report.Samples} identical up to tied scores");
                    Console.WriteLine(report.Verified ? "verified" : "NOT verified");
                }

                if (switched)
                {
                    Console.WriteLine($"collection '{name}' now uses vector backend '{target.Name}'");
                }
            }

            return !report.Completed || report.Verified ? ExitCodes.Ok : ExitCodes.Failure;
        }, cancellationToken));
        return command;
    }
}

/// <summary>Options the vector maintenance commands (migrate, backup, restore, import) share.</summary>
internal static class VectorCommandOptions
{
    public static Option<string> Collection(bool required = true) =>
        new("--collection") { Description = "Collection name", HelpName = "NAME", Required = required };

    public static Option<string> DataDirectory() => new("--data-dir")
    {
        Description = "The platform's data directory (metadata store, lexical index, embedded backends)",
        HelpName = "DIR",
        DefaultValueFactory = _ => ClientOptions.DefaultDataDirectory,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print only the JSON result" };

    /// <summary>The platform's collection name rules, as a usage error.</summary>
    public static string ValidCollection(string? name)
    {
        try
        {
            CollectionNames.Validate(name, "--collection");
            return name!;
        }
        catch (RequestValidationException e)
        {
            throw new UsageException(e.Message);
        }
    }

    public static async Task<RagPlatform.Core.Storage.CollectionRecord> GetRecordAsync(OfflinePlatform platform, string name, CancellationToken cancellationToken) =>
        await platform.Store.GetCollectionAsync(name, cancellationToken) ?? throw new CliException($"collection '{name}' does not exist.");

    public static void AtLeastOne(params Option<int>[] options)
    {
        foreach (var option in options)
        {
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 1)
                {
                    r.AddError($"{r.Option.Name} must be at least 1.");
                }
            });
        }
    }
}
