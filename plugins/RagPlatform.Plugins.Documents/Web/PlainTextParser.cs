using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Web;

/// <summary>Plain text: paragraphs are separated by blank lines; single line breaks inside one are kept as spaces.</summary>
internal sealed class PlainTextParser : IDocumentParser
{
    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken) =>
        LibraryGuard.Run("text", () => Parse(source, limits, cancellationToken));

    private static ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        var text = TextDecoding.Decode(source.Content.Span);
        var builder = new DocumentBuilder(limits);
        var paragraph = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                builder.Paragraph(string.Join(" ", paragraph));
                paragraph.Clear();
                continue;
            }

            paragraph.Add(line);
        }

        builder.Paragraph(string.Join(" ", paragraph));
        return builder.Build();
    }
}
