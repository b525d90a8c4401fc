using RagPlatform.Cli.Commands;
using RagPlatform.DocumentSamples;

namespace RagPlatform.Cli.Tests;

[Collection(nameof(ConsoleCapture))]
public sealed class ParseCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Parse_reports_each_file_and_counts_text_reasons_and_parser_errors()
    {
        var report = SampleDocument.Report(sections: 2, tableRows: 3);
        await File.WriteAllBytesAsync(Path.Combine(_directory.Path, "a.hwp"), HancomSamples.Hwp(report));
        await File.WriteAllBytesAsync(Path.Combine(_directory.Path, "b.hwpx"), HancomSamples.Hwpx(report));
        await File.WriteAllBytesAsync(Path.Combine(_directory.Path, "c.hwp"), HancomSamples.Hwp(report, new HancomSamples.HwpOptions(Distribution: true)));
        _directory.Write("notes.txt", "건너뛸 파일");

        var summary = await ConsoleCapture.RunJsonAsync(ParseCommand.Create([]), "parse", _directory.Path, "--ext", "hwp", "--ext", "hwpx", "--json");

        Assert.Equal((3, 2, 1, 0), (summary.GetProperty("files").GetInt32(), summary.GetProperty("parsed").GetInt32(),
            summary.GetProperty("failed").GetInt32(), summary.GetProperty("parserErrors").GetInt32()));
    }

    [Fact]
    public async Task Bench_parse_prints_pages_and_megabytes_per_second_against_the_anchor()
    {
        var result = await ConsoleCapture.RunJsonAsync(BenchCommand.Create([]), "bench", "parse", "--documents", "1", "--sections", "4", "--repeat", "1", "--json");

        var formats = result.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["pdf", "docx", "hwpx"], formats.Select(f => f.GetProperty("format").GetString()));
        Assert.All(formats, f => Assert.True(f.GetProperty("pagesPerSecond").GetDouble() > 0 && f.GetProperty("timeRatioVsAnchor").GetDouble() > 0));
        Assert.True(result.GetProperty("pagesPerFormat").GetInt32() >= 2);
    }
}
