using System.CommandLine;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Core.Security;
using Spectre.Console;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag keys</c>: makes API keys and the configuration entries that admit them. The server stores only a
/// key's hash, so the key is shown once, here. Rotation: create a second key for the same client, switch
/// the client over, then set <c>Revoked</c> on the old entry (or remove it); both work meanwhile.
/// </summary>
public static class KeysCommand
{
    public static Command Create()
    {
        var client = new Option<string>("--client") { Description = "Who holds the key (rate limits are per client)", HelpName = "NAME", Required = true };
        var scopes = new Option<string[]>("--scope", "-s")
        {
            Description = "ingest, query or admin (repeatable)",
            HelpName = "SCOPE",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var collections = new Option<string[]>("--collection", "-c")
        {
            Description = "Limit the key to these collections (repeatable; default: all)",
            HelpName = "NAME",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = new Option<bool>("--json") { Description = "Print only the JSON result" };
        var create = new Command("create", "Make a new API key and print it with its configuration entry") { client, scopes, collections, json };
        create.SetAction(result =>
        {
            var requested = result.GetValue(scopes)!.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToList();
            var unknown = requested.Where(s => !RagScopes.All.Contains(s)).ToList();
            if (requested.Count == 0 || unknown.Count > 0)
            {
                Console.Error.WriteLine($"error: --scope takes {string.Join(", ", RagScopes.All)}; got '{string.Join(", ", unknown)}'.");
                return ExitCodes.Usage;
            }

            var limited = result.GetValue(collections) is { Length: > 0 } names ? names.ToList() : null;
            var (key, id, hash) = ApiKeys.Create();
            var entry = new ApiKeyOptions { Id = id, Client = result.GetValue(client), Hash = hash, Scopes = requested, Collections = limited };
            if (result.GetValue(json))
            {
                CliJson.WriteLine(new { key, entry });
                return ExitCodes.Ok;
            }

            AnsiConsole.MarkupLine("[bold]API key[/] (shown once; the server keeps only its hash):");
            Console.WriteLine(key);
            Console.WriteLine();
            AnsiConsole.MarkupLine("Add this entry to [bold]RagPlatform:Security:Keys[/] (appsettings, a secret store, or RagPlatform__Security__Keys__<n>__* variables):");
            CliJson.WriteLine(entry);
            return ExitCodes.Ok;
        });

        return new Command("keys", "Make API keys for servers that require them (RagPlatform:Security:Keys)") { create };
    }
}
