using RagPlatform.Plugins.Documents.Hancom;
using RagPlatform.Plugins.Documents.Office;
using RagPlatform.Plugins.Documents.Pdf;
using RagPlatform.Plugins.Documents.Web;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Tests;

/// <summary>Sniffs and parses bytes as the host does, with the built-in parsers.</summary>
internal static class Parse
{
    public static IDocumentParser For(string contentType) => contentType switch
    {
        DocumentContentTypes.Pdf => new PdfDocumentParser(new PdfParserOptions()),
        DocumentContentTypes.Docx => new WordDocumentParser(),
        DocumentContentTypes.Pptx => new PresentationParser(),
        DocumentContentTypes.Xlsx => new SpreadsheetParser(),
        DocumentContentTypes.Html => new HtmlDocumentParser(),
        DocumentContentTypes.Markdown => new MarkdownParser(),
        DocumentContentTypes.PlainText => new PlainTextParser(),
        DocumentContentTypes.Hwpx => new HwpxParser(),
        DocumentContentTypes.Hwp => new HwpParser(),
        _ => throw new ArgumentException("no parser for " + contentType),
    };

    public static Task<ParsedDocument> FileAsync(string name, byte[] bytes, DocumentParseLimits? limits = null)
    {
        var type = ContentSniffer.Sniff(name, bytes, limits);
        return For(type).ParseAsync(new DocumentSource(name, type, bytes), limits ?? DocumentParseLimits.Default, CancellationToken.None);
    }

    public static async Task<DocumentParseException> FailureAsync(string name, byte[] bytes, DocumentParseLimits? limits = null) =>
        await Assert.ThrowsAsync<DocumentParseException>(() => FileAsync(name, bytes, limits));

    public static string AllText(ParsedDocument document) => string.Join("\n", document.Texts());

    public static IEnumerable<T> Blocks<T>(ParsedDocument document) => document.Sections.SelectMany(s => s.Blocks).OfType<T>();
}
