using System.Globalization;
using RagPlatform.Sdk.Documents;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Exceptions;

namespace RagPlatform.Plugins.Documents.Pdf;

/// <summary>
/// PDF through PdfPig: the letters of each page in the order the page draws them (the order the authoring tool wrote
/// the text, which is reading order for what word processors and Hancom export, columns included), grouped into
/// lines by baseline. A line whose pieces stand apart by wide gaps is a table row, its pieces the cells, and
/// consecutive such lines make a table; a line set larger than the body text is a heading (levels by size);
/// the other lines join into paragraphs. Every paragraph and row keeps its page number.
/// </summary>
internal sealed class PdfDocumentParser(PdfParserOptions options) : IDocumentParser
{
    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken) =>
        LibraryGuard.Run("PDF", () => Parse(source, limits, cancellationToken));

    private ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        PdfDocument document;
        try
        {
            document = PdfDocument.Open(source.Content.ToArray(), new ParsingOptions
            {
                UseLenientParsing = true,
                SkipMissingFonts = true,
                // Deeply nested content is a classic way to exhaust a parser's stack.
                MaxStackDepth = 256,
            });
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw new DocumentParseException(DocumentParseFailure.Protected,
                "The PDF is encrypted and needs a password; save an unprotected copy to index it.", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The PDF cannot be read: " + ex.Message, ex);
        }

        using (document)
        {
            if (document.IsEncrypted && !options.IndexEncrypted)
            {
                throw new DocumentParseException(DocumentParseFailure.Protected,
                    "The PDF is encrypted (an owner password restricts it); save an unprotected copy to index it.");
            }

            var pageCount = document.NumberOfPages;
            if (pageCount > limits.MaxPages)
            {
                throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"The PDF has {pageCount:N0} pages; the limit is {limits.MaxPages:N0} (RagPlatform:Ingestion:Parsing:MaxPages)."));
            }

            var lines = new List<PdfLine>();
            for (var number = 1; number <= pageCount; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Page page;
                try
                {
                    page = document.GetPage(number);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not DocumentParseException)
                {
                    throw new DocumentParseException(DocumentParseFailure.Corrupt,
                        string.Create(CultureInfo.InvariantCulture, $"Page {number} of the PDF cannot be read: {ex.Message}"), ex);
                }

                lines.AddRange(PdfLayout.Lines(page.Letters, number));
            }

            var builder = new DocumentBuilder(limits) { Pages = pageCount };
            var info = document.Information;
            builder.Title = info.Title;
            builder.Properties = new DocumentProperties(
                Author: NullIfBlank(info.Author),
                Created: Safe(info.GetCreatedDateTimeOffset),
                Modified: Safe(info.GetModifiedDateTimeOffset),
                Subject: NullIfBlank(info.Subject),
                Keywords: NullIfBlank(info.Keywords));
            PdfLayout.Build(lines, builder);
            return builder.Build();
        }
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static DateTimeOffset? Safe(Func<DateTimeOffset?> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>Settings of the "pdf" parser (<c>RagPlatform:Ingestion:Parsers:pdf</c>).</summary>
public sealed class PdfParserOptions
{
    /// <summary>
    /// Index PDFs that are encrypted with an empty user password (they open without one, but their owner restricted
    /// copying). Off: such a file is refused as protected, respecting the author's restriction.
    /// </summary>
    public bool IndexEncrypted { get; set; }
}
