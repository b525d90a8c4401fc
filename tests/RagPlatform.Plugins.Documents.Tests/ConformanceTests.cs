using RagPlatform.DocumentSamples;
using RagPlatform.Sdk.Conformance;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Tests;

/// <summary>Every built-in parser plugin against the SDK's parser conformance kit.</summary>
public static class ConformanceSamples
{
    public static readonly SampleDocument Report = SampleDocument.Report(sections: 3, tableRows: 3);

    public static readonly IReadOnlyList<string> Phrases = ["2. 인력 운영 현황", SampleDocument.CellCode(2, 3)];
}

public sealed class PdfParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new PdfParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.pdf", PdfSample.Write(ConformanceSamples.Report), ConformanceSamples.Phrases);
}

public sealed class WordParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new WordParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.docx", OfficeSamples.Docx(ConformanceSamples.Report), ConformanceSamples.Phrases);
}

public sealed class PowerPointParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new PowerPointParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.pptx", OfficeSamples.Pptx(ConformanceSamples.Report), ConformanceSamples.Phrases);
}

public sealed class ExcelParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new ExcelParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.xlsx", OfficeSamples.Xlsx(ConformanceSamples.Report), [SampleDocument.CellCode(2, 3)]);
}

public sealed class HtmlParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new HtmlParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.html", WebSamples.Html(ConformanceSamples.Report), ConformanceSamples.Phrases);
}

public sealed class MarkdownParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new MarkdownParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.md", WebSamples.Markdown(ConformanceSamples.Report), ConformanceSamples.Phrases);
}

public sealed class PlainTextParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new PlainTextParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() =>
        ("a.txt", System.Text.Encoding.UTF8.GetBytes(ConformanceSamples.Report.PlainText()), ConformanceSamples.Phrases);
}

public sealed class HwpxParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new HwpxParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.hwpx", HancomSamples.Hwpx(ConformanceSamples.Report), ConformanceSamples.Phrases);
}

public sealed class HwpParserConformance : DocumentParserConformanceTests
{
    protected override IDocumentParserPlugin CreatePlugin() => new HwpParserPlugin();

    protected override (string, byte[], IReadOnlyList<string>) Sample() => ("a.hwp", HancomSamples.Hwp(ConformanceSamples.Report), ConformanceSamples.Phrases);
}
