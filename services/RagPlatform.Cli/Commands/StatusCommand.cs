using System.CommandLine;
using System.Globalization;
using RagPlatform.Client;
using RagPlatform.Cli.Output;
using RagPlatform.Contracts.Http;
using Spectre.Console;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag status</c>: is the server healthy, what do its collections hold, what has embedding cost, how do its caches do.</summary>
public static class StatusCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var collection = new Option<string>("--collection", "-c") { Description = "Only this collection", HelpName = "NAME" };
        var command = new Command("status", "Server health and collection statistics") { collection };
        var client = ClientOptions.AddTo(command, settings);
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            await using var session = await client.OpenAsync(result, cancellationToken);
            var health = await session.Client.GetHealthAsync(cancellationToken);
            IReadOnlyList<CollectionStats> collections = result.GetValue(collection) is { } name
                ? [await session.Client.GetCollectionAsync(name, cancellationToken)]
                : (await session.Client.ListCollectionsAsync(cancellationToken)).Collections;
            var usage = await session.Client.GetProviderUsageAsync(cancellationToken);
            var caches = await session.Client.GetCacheStatsAsync(cancellationToken);
            if (client.IsJson(result))
            {
                CliJson.WriteLine(new { server = session.Server, inProcess = session.InProcess, health = health.Report, collections, embeddingUsage = usage, caches });
            }
            else
            {
                Write(session.Server, session.InProcess, health, collections);
                if (usage is not null)
                {
                    WriteUsage(usage);
                }

                if (caches is { Tiers.Count: > 0 })
                {
                    WriteCaches(caches);
                }
            }

            // Scripts can use `rag status` as a health check.
            return health.IsHealthy ? ExitCodes.Ok : ExitCodes.Failure;
        }, cancellationToken));
        return command;
    }

    /// <summary>The month's embedding spend against the budget, and per-key usage of metered providers.</summary>
    private static void WriteUsage(ProviderUsageResponse usage)
    {
        var budget = usage.Budget;
        var limit = budget.MonthlyLimit > 0
            ? string.Create(CultureInfo.InvariantCulture, $" of {budget.MonthlyLimit:0.00} {budget.Currency}{(budget.Exceeded ? $" [red]budget spent ({budget.WhenExceeded})[/]" : "")}")
            : " (no budget set)";
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Embedding spend {usage.Month}: {budget.Spent:0.00####} {budget.Currency}{limit}"));
        foreach (var spend in usage.Spend)
        {
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Markup.Escape(spend.Provider)}: {Terminal.Count(spend.Tokens)} tokens in {Terminal.Count(spend.Calls)} calls, {spend.Cost:0.00####} {budget.Currency}"));
        }

        var keys = usage.Providers.SelectMany(p => p.Keys.Select(k => (Provider: p.Name, Key: k))).ToList();
        if (keys.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("provider")
            .AddColumn("key")
            .AddColumn(new TableColumn("requests").RightAligned())
            .AddColumn(new TableColumn("tokens").RightAligned())
            .AddColumn(new TableColumn("errors").RightAligned())
            .AddColumn(new TableColumn("429s").RightAligned())
            .AddColumn("state");
        foreach (var (provider, key) in keys)
        {
            var state = key.Disabled is not null ? "[red]refused[/]"
                : key.PausedUntil is { } until ? $"[yellow]paused until {until:HH:mm:ss}[/]" : "ok";
            table.AddRow(Markup.Escape(provider), Markup.Escape(key.Id), Terminal.Count(key.Requests), Terminal.Count(key.Tokens),
                Terminal.Count(key.Errors), Terminal.Count(key.Throttled), state);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>Hits and misses per cache kind and tier (l1 memory, l2 Redis) in the server's process.</summary>
    private static void WriteCaches(CacheStatsResponse caches)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("cache")
            .AddColumn("tier")
            .AddColumn(new TableColumn("hits").RightAligned())
            .AddColumn(new TableColumn("misses").RightAligned())
            .AddColumn(new TableColumn("hit rate").RightAligned());
        foreach (var tier in caches.Tiers)
        {
            table.AddRow(Markup.Escape(tier.Kind), tier.Tier == "l2" ? "l2 redis" : "l1 memory", Terminal.Count(tier.Hits), Terminal.Count(tier.Misses),
                string.Create(CultureInfo.InvariantCulture, $"{tier.HitRate:P1}"));
        }

        AnsiConsole.Write(table);
    }

    private static void Write(Uri server, bool inProcess, HealthResult health, IReadOnlyList<CollectionStats> collections)
    {
        var colour = health.IsHealthy ? "green" : "red";
        var where = inProcess ? " (in-process)" : string.Empty;
        AnsiConsole.MarkupLine($"Server {Markup.Escape(server.ToString())}{where}: [{colour}]{Markup.Escape(health.Report)}[/]");
        if (collections.Count == 0)
        {
            AnsiConsole.WriteLine("No collections.");
            return;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("collection")
            .AddColumn(new TableColumn("documents").RightAligned())
            .AddColumn(new TableColumn("chunks").RightAligned())
            .AddColumn(new TableColumn("pending").RightAligned())
            .AddColumn("fingerprint")
            .AddColumn("backend")
            .AddColumn(new TableColumn("version").RightAligned());
        foreach (var stats in collections)
        {
            table.AddRow(
                Markup.Escape(stats.Name),
                Terminal.Count(stats.Documents),
                Terminal.Count(stats.Chunks),
                stats.Pending > 0 ? $"[yellow]{Terminal.Count(stats.Pending)}[/]" : "0",
                Markup.Escape(stats.ModelFingerprint ?? "(none yet)"),
                Markup.Escape(stats.Settings.VectorBackend),
                Terminal.Count(stats.Version));
        }

        AnsiConsole.Write(table);
    }
}
