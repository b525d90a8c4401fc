using System.CommandLine;
using System.Globalization;
using RagPlatform.Client;
using RagPlatform.Cli.Output;
using RagPlatform.Cli.Parse;
using RagPlatform.Core.Text;
using RagPlatform.Ingestion.Files;
using RagPlatform.Sdk.Documents;
using Spectre.Console;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag parse PATH...</c>: runs the ingestion service's parsing on files here, without a server, and prints per file
/// what it found (type, parser, pages, sections, tables, characters) or why it failed, then the counts: text extracted,
/// failed with a reason, and parser errors (a parser throwing something other than its documented refusal). With
/// <c>--show</c>, the structure of each document. The measurement of a folder of real files.
/// </summary>
public static class ParseCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var paths = new Argument<string[]>("PATH") { Description = "Files or folders (recursive)", Arity = ArgumentArity.OneOrMore };
        var extensions = new Option<string[]>("--ext")
        {
            Description = "Only files with these extensions, e.g. --ext hwp --ext hwpx [default: every file in a folder]",
            HelpName = "EXT",
            AllowMultipleArgumentsPerToken = true,
        };
        var show = new Option<bool>("--show") { Description = "Print each document's structure: sections, paragraphs, tables" };
        var json = new Option<bool>("--json") { Description = "One JSON object per file, then the summary" };
        var command = new Command("parse", "Parse files as the ingestion service would (no server, nothing stored) and report what each yields") { paths, extensions, show, json };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(async () =>
        {
            var files = Files(result.GetValue(paths)!, result.GetValue(extensions) ?? []);
            await using var local = LocalParsing.Create(settings);
            var asJson = result.GetValue(json);
            var table = new Table().AddColumns("file", "type", "result", "pages", "sections", "tables", "chars", "ms", "reason");
            int parsed = 0, failed = 0, unexpected = 0;
            foreach (var file in files)
            {
                var outcome = await local.Parsing.ParseAsync(file.Name, await File.ReadAllBytesAsync(file.Path, cancellationToken), cancellationToken);
                var document = outcome.Document is null ? null : FileIngestion.Normalize(outcome.Document);
                if (outcome.Succeeded)
                {
                    parsed++;
                }
                else
                {
                    failed++;
                    unexpected += outcome.Unexpected ? 1 : 0;
                }

                var chars = document?.TextLength ?? 0;
                if (asJson)
                {
                    CliJson.WriteLine(new
                    {
                        file = file.Name, outcome.ContentType, outcome.Parser, result = outcome.Succeeded ? "parsed" : "failed",
                        title = document?.Title, pages = document?.Pages, sections = document?.Sections.Count,
                        tables = document?.Sections.Sum(s => s.Blocks.Count(b => b is TableBlock)), chars,
                        letters = document?.Texts().Sum(t => t.Count(c => !char.IsWhiteSpace(c))) ?? 0,
                        ms = Math.Round(outcome.Elapsed.TotalMilliseconds, 1), failure = outcome.FailureCode, error = outcome.Error, outcome.Unexpected,
                    });
                }
                else
                {
                    table.AddRow(
                        Markup.Escape(file.Name), Markup.Escape(outcome.Parser ?? Short(outcome.ContentType)),
                        outcome.Succeeded ? "parsed" : outcome.Unexpected ? "[red]parser error[/]" : "failed",
                        document?.Pages?.ToString(CultureInfo.InvariantCulture) ?? "", document?.Sections.Count.ToString(CultureInfo.InvariantCulture) ?? "",
                        document?.Sections.Sum(s => s.Blocks.Count(b => b is TableBlock)).ToString(CultureInfo.InvariantCulture) ?? "",
                        outcome.Succeeded ? Terminal.Count(chars) : "",
                        outcome.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture),
                        Markup.Escape(Terminal.Excerpt(outcome.Error, 110)));
                }

                if (result.GetValue(show) && document is not null)
                {
                    Show(file.Name, document);
                }
            }

            if (asJson)
            {
                CliJson.WriteLine(new { files = files.Count, parsed, failed, parserErrors = unexpected });
            }
            else
            {
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"{files.Count} files: {parsed} parsed (text extracted), {failed - unexpected} failed with a reason, {unexpected} parser errors"));
            }

            return unexpected > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static string Short(string? contentType) => contentType switch
    {
        null => "?",
        _ => contentType.Length > 24 ? contentType[..24] + "…" : contentType,
    };

    /// <summary>The files to parse: given files as they are, folders walked in a stable order (hidden entries left out).</summary>
    internal static List<(string Path, string Name)> Files(IEnumerable<string> paths, IReadOnlyCollection<string> extensions)
    {
        var wanted = extensions.Select(e => e.StartsWith('.') ? e : "." + e).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var files = new List<(string, string)>();
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                files.Add((path, Path.GetFileName(path)));
            }
            else if (Directory.Exists(path))
            {
                var root = Path.GetFullPath(path);
                files.AddRange(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                    .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar).Any(p => p.StartsWith('.')))
                    .Where(f => wanted.Count == 0 || wanted.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal)
                    .Select(f => (f, Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))));
            }
            else
            {
                throw new UsageException($"no such file or directory: {path}");
            }
        }

        return files;
    }

    private static void Show(string name, ParsedDocument document)
    {
        Console.WriteLine($"── {name}: \"{document.Title}\" ({document.Properties.Author}, {document.Properties.Created:yyyy-MM-dd})");
        foreach (var section in document.Sections)
        {
            Console.WriteLine($"  § {StructuredChunker.SectionPath(section.HeadingPath) ?? "(before the first heading)"}");
            foreach (var block in section.Blocks)
            {
                switch (block)
                {
                    case ParagraphBlock paragraph:
                        Console.WriteLine($"    p{(paragraph.Page is { } page ? "@" + page.ToString(CultureInfo.InvariantCulture) : "")} {Terminal.Excerpt(paragraph.Text, 100)}");
                        break;
                    case TableBlock table:
                        Console.WriteLine($"    table {table.Rows.Count} rows, header {table.HeaderRows}{(table.Caption is null ? "" : ": " + table.Caption)}");
                        foreach (var row in table.Rows.Take(4))
                        {
                            Console.WriteLine($"      {(row.Page is { } p ? "@" + p.ToString(CultureInfo.InvariantCulture) + " " : "")}{Terminal.Excerpt(string.Join(" | ", row.Cells), 100)}");
                        }

                        break;
                }
            }
        }
    }
}
