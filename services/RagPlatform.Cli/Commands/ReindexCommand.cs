using System.CommandLine;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag reindex</c>: re-embeds a collection with another model (blue/green, docs/vector-backends.md) through
/// <c>POST /v1/collections/{name}/reindex</c>, then follows it until the collection has switched or the re-index failed.
/// </summary>
public static class ReindexCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var collection = new Option<string>("--collection", "-c") { Description = "Collection to re-index", HelpName = "NAME", Required = true };
        var provider = new Option<string>("--provider") { Description = "Embedding provider of the new version (default: the collection's)", HelpName = "NAME" };
        var setting = new Option<string[]>("--setting")
        {
            Description = "A provider setting of the new version, e.g. --setting Dimensions=256 (repeatable)",
            HelpName = "KEY=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };
        var backend = new Option<string>("--vector-backend") { Description = "Vector backend of the new version (default: the collection's)", HelpName = "NAME" };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the re-index is queued (a server keeps running it)" };
        var command = new Command("reindex",
            "Re-embed a collection with another model into a new version beside the active one; searches use the active one until the switch")
        {
            collection, provider, setting, backend, noWait,
        };
        var client = ClientOptions.AddTo(command, settings);
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var name = result.GetValue(collection)!;
            var request = new ReindexRequest(
                result.GetValue(provider) is null && result.GetValue(setting) is not { Length: > 0 }
                    ? null
                    : new EmbeddingSelectionInput(result.GetValue(provider), ParseSettings(result.GetValue(setting))),
                result.GetValue(backend));
            await using var session = await client.OpenAsync(result, cancellationToken);
            var accepted = await session.Client.ReindexAsync(name, request, cancellationToken);
            if (!client.IsJson(result))
            {
                Console.WriteLine($"{name}: re-index into version {accepted.TargetVersion} started for {accepted.Total:N0} documents (job {accepted.JobId})");
            }

            // An in-process platform stops with this command, so it always waits there.
            if (result.GetValue(noWait) && !session.InProcess)
            {
                if (client.IsJson(result))
                {
                    CliJson.WriteLine(accepted);
                }

                return ExitCodes.Ok;
            }

            var stats = await WaitAsync(session.Client, name, accepted, client.IsJson(result), cancellationToken);
            var failed = stats.Reindex is { JobId: var job } failure && job == accepted.JobId && failure.State == "failed";
            if (client.IsJson(result))
            {
                CliJson.WriteLine(new { accepted, collection = stats });
            }
            else if (failed)
            {
                Console.WriteLine($"{name}: re-index failed, version {stats.ActiveVersion} stays active: {stats.Reindex!.Error}");
            }
            else
            {
                Console.WriteLine($"{name}: switched to version {stats.ActiveVersion} ({stats.ModelFingerprint}), {stats.Chunks:N0} chunks in '{stats.VectorCollection}'");
            }

            return failed ? ExitCodes.Failure : ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task<CollectionStats> WaitAsync(RagPlatformClient client, string name, ReindexAccepted accepted, bool quiet, CancellationToken cancellationToken)
    {
        var reported = -1;
        while (true)
        {
            var stats = await client.GetCollectionAsync(name, cancellationToken);
            if (stats.Reindex is not { } reindex || reindex.JobId != accepted.JobId || reindex.State != "running")
            {
                return stats;
            }

            if (!quiet && reindex.Processed != reported)
            {
                reported = reindex.Processed;
                Console.WriteLine($"  {reindex.Processed:N0}/{reindex.Total:N0} documents copied");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private static Dictionary<string, string?>? ParseSettings(string[]? pairs)
    {
        if (pairs is not { Length: > 0 })
        {
            return null;
        }

        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0)
            {
                throw new UsageException($"--setting takes KEY=VALUE, not '{pair}'.");
            }

            settings[pair[..separator]] = pair[(separator + 1)..];
        }

        return settings;
    }
}
