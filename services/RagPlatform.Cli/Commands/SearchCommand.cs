using System.CommandLine;
using System.Globalization;
using RagPlatform.Client;
using RagPlatform.Cli.Hosting;
using RagPlatform.Cli.Output;
using RagPlatform.Cli.Search;
using RagPlatform.Contracts.Http;
using Spectre.Console;

namespace RagPlatform.Cli.Commands;

/// <summary><c>rag search QUERY</c>: the best chunks of a collection for a query.</summary>
public static class SearchCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var query = new Argument<string>("QUERY") { Description = "What to search for" };
        var collection = IngestCommand.CollectionOption();
        var topK = new Option<int>("--top-k", "-k") { Description = "How many chunks to return", HelpName = "N", DefaultValueFactory = _ => 10 };
        var mode = ModeOption();
        var tags = new Option<string[]>("--tag")
        {
            Description = "Only chunks of documents with this tag (repeatable; all must match)",
            HelpName = "TAG",
        };
        var filters = new Option<string[]>("--filter")
        {
            Description = "Only documents whose metadata key has this value (repeatable); numbers and true/false match as such, anything else as text",
            HelpName = "KEY=VALUE",
        };
        filters.Validators.Add(r =>
        {
            try
            {
                FilterParser.Parse(r.GetValueOrDefault<string[]>() ?? []);
            }
            catch (UsageException ex)
            {
                r.AddError(ex.Message);
            }
        });

        var command = new Command("search", "Search a collection") { query, collection, topK, mode, tags, filters };
        var client = ClientOptions.AddTo(command, settings);
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var json = client.IsJson(result);
            var request = new SearchRequest(
                result.GetValue(query),
                result.GetValue(topK),
                result.GetValue(mode),
                result.GetValue(tags) is { Length: > 0 } given ? given : null,
                result.GetValue(filters) is { Length: > 0 } pairs ? FilterParser.Parse(pairs) : null);
            var name = result.GetValue(collection)!;
            await using var session = await client.OpenAsync(result, cancellationToken);
            var response = await session.Client.SearchAsync(name, request, cancellationToken);
            if (json)
            {
                CliJson.WriteLine(response);
            }
            else
            {
                Write(name, response);
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>No default here: a search without --mode gets the server's (RagPlatform:Query:DefaultMode, hybrid).</summary>
    public static Option<string?> ModeOption() => new("--mode")
    {
        Description = "Retrieval mode: hybrid, dense or lexical [default: the server's, hybrid]",
        HelpName = "MODE",
    };

    /// <summary>A parsed file's citation: its section's innermost heading and its pages ("3.1 세부 내용, p. 12-13").</summary>
    private static string Where(SearchResult hit)
    {
        var section = hit.Section is null ? null : Terminal.Excerpt(hit.Section.Split(" > ")[^1], 30);
        var pages = hit.PageStart is not { } start ? null
            : hit.PageEnd is { } end && end > start ? string.Create(CultureInfo.InvariantCulture, $"p. {start}-{end}")
            : string.Create(CultureInfo.InvariantCulture, $"p. {start}");
        return string.Join(", ", new[] { section, pages }.Where(p => p is not null));
    }

    private static void Write(string collection, SearchResponse response)
    {
        var cached = response.Cached ? ", cached" : string.Empty;
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{response.Results.Count} result(s) from {collection} in {response.TookMs:0.#} ms ({response.Mode}{cached})")));
        if (response.Results.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("#").RightAligned())
            .AddColumn(new TableColumn("score").RightAligned())
            .AddColumn("document")
            .AddColumn("title")
            .AddColumn("where")
            .AddColumn("text");
        var rank = 0;
        foreach (var hit in response.Results)
        {
            table.AddRow(
                (++rank).ToString(CultureInfo.InvariantCulture),
                hit.Score.ToString("0.0000", CultureInfo.InvariantCulture),
                Markup.Escape(hit.DocumentId),
                Markup.Escape(Terminal.Excerpt(hit.Title, 40)),
                Markup.Escape(Where(hit)),
                Markup.Escape(Terminal.Excerpt(hit.Text, 160)));
        }

        AnsiConsole.Write(table);
    }
}
