using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RagPlatform.Cli.Bench;
using RagPlatform.Cli.Output;
using RagPlatform.Client;
using RagPlatform.Cli.Parse;
using RagPlatform.DocumentSamples;
using RagPlatform.Sdk.Documents;
using Spectre.Console;
using UglyToad.PdfPig;

namespace RagPlatform.Cli.Commands;

/// <summary>
/// <c>rag bench parse</c>: document parsing throughput (pages/s, MB/s) of the ingestion service's parsers on generated
/// Korean reports in PDF, DOCX and HWPX — the same content in each format, so "pages" are the pages of its PDF
/// rendering — against each format's plain-text extraction by its library (the anchor) in the same run.
/// </summary>
public static class BenchParseCommand
{
    public static Command Create(IReadOnlyList<string> settings)
    {
        var documents = new Option<int>("--documents") { Description = "Documents per format", HelpName = "N", DefaultValueFactory = _ => 6 };
        var sections = new Option<int>("--sections") { Description = "Sections per document (30 sections ≈ 14 PDF pages)", HelpName = "N", DefaultValueFactory = _ => 30 };
        var repeat = new Option<int>("--repeat") { Description = "Timed passes over the corpus per format (the best counts; the range is printed)", HelpName = "N", DefaultValueFactory = _ => 5 };
        var keep = new Option<string?>("--keep") { Description = "Also write the generated corpus to this folder (inspect it with rag parse --show)", HelpName = "DIR" };
        var json = new Option<bool>("--json") { Description = "Print only the JSON result" };
        var command = new Command("parse", "Parsing throughput on generated Korean PDF, DOCX and HWPX documents, against each library's plain-text extraction")
        {
            documents, sections, repeat, keep, json,
        };
        command.SetAction((result, cancellationToken) => CommandRunner.RunAsync(() => RunAsync(
            Math.Max(1, result.GetValue(documents)), Math.Max(1, result.GetValue(sections)), Math.Max(1, result.GetValue(repeat)),
            result.GetValue(keep), result.GetValue(json), settings, cancellationToken), cancellationToken));
        return command;
    }

    private sealed record Format(string Name, string Extension, Func<SampleDocument, byte[]> Write, Func<byte[], long> Anchor);

    private static async Task<int> RunAsync(int count, int sections, int repeat, string? keep, bool json, IReadOnlyList<string> settings, CancellationToken cancellationToken)
    {
        var log = json ? TextWriter.Null : Console.Out;
        Format[] formats =
        [
            new("pdf", ".pdf", d => PdfSample.Write(d), ParseAnchors.Pdf),
            new("docx", ".docx", OfficeSamples.Docx, ParseAnchors.Docx),
            new("hwpx", ".hwpx", HancomSamples.Hwpx, ParseAnchors.Hwpx),
        ];
        var samples = Enumerable.Range(0, count).Select(i => SampleDocument.Report(sections, seed: 1000 + i)).ToList();
        log.WriteLine($"generating {count} documents × {sections} sections in {formats.Length} formats …");
        var corpus = formats.ToDictionary(f => f.Name, f => samples.Select(f.Write).ToList());
        var pages = corpus["pdf"].Sum(file =>
        {
            using var pdf = PdfDocument.Open(file);
            return (long)pdf.NumberOfPages;
        });
        if (keep is not null)
        {
            Directory.CreateDirectory(keep);
            foreach (var format in formats)
            {
                for (var i = 0; i < count; i++)
                {
                    await File.WriteAllBytesAsync(Path.Combine(keep, $"report-{i:00}{format.Extension}"), corpus[format.Name][i], cancellationToken);
                }
            }
        }

        await using var local = LocalParsing.Create(settings);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{pages} pages per format (the PDF rendering's), {Environment.ProcessorCount} CPUs, {repeat} passes each, one file at a time"));
        var table = new Table().AddColumns("format", "files", "MB", "pages/s", "MB/s", "pages/s (range)", "anchor pages/s", "ours/anchor time");
        var results = new List<object>();
        foreach (var format in formats)
        {
            var files = corpus[format.Name];
            var megabytes = files.Sum(f => (long)f.Length) / 1048576.0;
            // One untimed pass each: JIT, font and parser caches.
            await ParseAllAsync(local, format, files, cancellationToken);
            files.ForEach(f => format.Anchor(f));

            var ours = new List<double>();
            var anchor = new List<double>();
            for (var pass = 0; pass < repeat; pass++)
            {
                ours.Add(await ParseAllAsync(local, format, files, cancellationToken));
                var clock = Stopwatch.StartNew();
                files.ForEach(f => format.Anchor(f));
                anchor.Add(clock.Elapsed.TotalSeconds);
            }

            var best = ours.Min();
            var bestAnchor = anchor.Min();
            table.AddRow(format.Name, count.ToString(CultureInfo.InvariantCulture), megabytes.ToString("0.00", CultureInfo.InvariantCulture),
                (pages / best).ToString("0", CultureInfo.InvariantCulture), (megabytes / best).ToString("0.00", CultureInfo.InvariantCulture),
                $"{pages / ours.Max():0}–{pages / best:0}", (pages / bestAnchor).ToString("0", CultureInfo.InvariantCulture),
                (best / bestAnchor).ToString("0.00", CultureInfo.InvariantCulture) + "×");
            results.Add(new
            {
                format = format.Name, files = count, pages, megabytes = Math.Round(megabytes, 3),
                pagesPerSecond = Math.Round(pages / best, 1), megabytesPerSecond = Math.Round(megabytes / best, 3),
                pagesPerSecondWorst = Math.Round(pages / ours.Max(), 1),
                anchorPagesPerSecond = Math.Round(pages / bestAnchor, 1), timeRatioVsAnchor = Math.Round(best / bestAnchor, 2),
            });
        }

        if (!json)
        {
            AnsiConsole.Write(table);
            log.WriteLine("anchor: the library's plain text with no structure (PdfPig page text, Open XML body text, HWPX hp:t elements)");
        }

        CliJson.WriteLine(new { pagesPerFormat = pages, processors = Environment.ProcessorCount, results });
        return ExitCodes.Ok;
    }

    private static async Task<double> ParseAllAsync(LocalParsing local, Format format, List<byte[]> files, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < files.Count; i++)
        {
            var outcome = await local.Parsing.ParseAsync($"report-{i}{format.Extension}", files[i], cancellationToken);
            if (!outcome.Succeeded)
            {
                throw new CliException($"the {format.Name} parser failed on a generated document: {outcome.Error}");
            }
        }

        return clock.Elapsed.TotalSeconds;
    }
}
