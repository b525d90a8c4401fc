using RagPlatform.Plugins.Documents;
using RagPlatform.Plugins.Documents.Hancom;
using RagPlatform.Plugins.Documents.Office;
using RagPlatform.Plugins.Documents.Pdf;
using RagPlatform.Plugins.Documents.Web;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Documents;

[assembly: RagPlugin(typeof(PdfParserPlugin))]
[assembly: RagPlugin(typeof(WordParserPlugin))]
[assembly: RagPlugin(typeof(PowerPointParserPlugin))]
[assembly: RagPlugin(typeof(ExcelParserPlugin))]
[assembly: RagPlugin(typeof(HtmlParserPlugin))]
[assembly: RagPlugin(typeof(MarkdownParserPlugin))]
[assembly: RagPlugin(typeof(PlainTextParserPlugin))]
[assembly: RagPlugin(typeof(HwpxParserPlugin))]
[assembly: RagPlugin(typeof(HwpParserPlugin))]

namespace RagPlatform.Plugins.Documents;

/// <summary>"pdf": PDF through PdfPig (<see cref="PdfDocumentParser"/>); settings <see cref="PdfParserOptions"/>.</summary>
public sealed class PdfParserPlugin : IDocumentParserPlugin
{
    public string Name => "pdf";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Pdf];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new PdfDocumentParser(context.BindOptions<PdfParserOptions>());
    }
}

/// <summary>"docx": Word documents through the Open XML SDK.</summary>
public sealed class WordParserPlugin : IDocumentParserPlugin
{
    public string Name => "docx";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Docx];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new WordDocumentParser();
}

/// <summary>"pptx": PowerPoint presentations through the Open XML SDK, a slide per section and page.</summary>
public sealed class PowerPointParserPlugin : IDocumentParserPlugin
{
    public string Name => "pptx";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Pptx];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new PresentationParser();
}

/// <summary>"xlsx": Excel workbooks through the Open XML SDK, a sheet per section, as a table.</summary>
public sealed class ExcelParserPlugin : IDocumentParserPlugin
{
    public string Name => "xlsx";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Xlsx];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new SpreadsheetParser();
}

/// <summary>"html": web pages through AngleSharp, main content only.</summary>
public sealed class HtmlParserPlugin : IDocumentParserPlugin
{
    public string Name => "html";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Html];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new HtmlDocumentParser();
}

/// <summary>"markdown": Markdown through Markdig.</summary>
public sealed class MarkdownParserPlugin : IDocumentParserPlugin
{
    public string Name => "markdown";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Markdown];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new MarkdownParser();
}

/// <summary>"text": plain text (UTF-8, UTF-16 with a byte-order mark, or CP949).</summary>
public sealed class PlainTextParserPlugin : IDocumentParserPlugin
{
    public string Name => "text";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.PlainText];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new PlainTextParser();
}

/// <summary>"hwpx": Hancom HWPX (OWPML) documents.</summary>
public sealed class HwpxParserPlugin : IDocumentParserPlugin
{
    public string Name => "hwpx";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Hwpx];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new HwpxParser();
}

/// <summary>"hwp": Hancom HWP 5.x documents (our own OLE compound-file reader).</summary>
public sealed class HwpParserPlugin : IDocumentParserPlugin
{
    public string Name => "hwp";

    public IReadOnlyList<string> ContentTypes => [DocumentContentTypes.Hwp];

    /// <summary>Created synchronously: nothing to download or call remotely.</summary>
    public ValueTask<IDocumentParser> CreateAsync(PluginContext context, CancellationToken cancellationToken) => ValueTask.FromResult(Create(context));

    private static IDocumentParser Create(PluginContext context) => new HwpParser();
}
