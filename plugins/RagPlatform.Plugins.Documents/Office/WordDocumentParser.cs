using System.Text;
using System.Text.RegularExpressions;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using RagPlatform.Sdk.Documents;
using ParsedRow = RagPlatform.Sdk.Documents.TableRow;
using WordRow = DocumentFormat.OpenXml.Wordprocessing.TableRow;

namespace RagPlatform.Plugins.Documents.Office;

/// <summary>
/// DOCX through the Open XML SDK: body paragraphs and tables in order. A paragraph is a heading when its style (or a
/// style it is based on) carries an outline level or is one of the built-in "heading N" styles; "Title" is the title.
/// Tables keep their rows and cells, rows marked "repeat as header" are the header. Word has no pages in the file.
/// </summary>
internal sealed partial class WordDocumentParser : IDocumentParser
{
    private const int MaxNesting = 32;

    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken) =>
        LibraryGuard.Run("Word document", () => Parse(source, limits, cancellationToken));

    private static ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        using var package = OpenXmlPackages.Open(source, limits, (stream, settings) => WordprocessingDocument.Open(stream, false, settings));
        var main = package.MainDocumentPart
            ?? throw new DocumentParseException(DocumentParseFailure.Corrupt, "The Word document has no main document part.");
        var body = OpenXmlPackages.Load(() => main.Document?.Body)
            ?? throw new DocumentParseException(DocumentParseFailure.Corrupt, "The Word document has no body.");
        var styles = StyleLevels.From(OpenXmlPackages.Load(() => main.StyleDefinitionsPart?.Styles));

        var builder = new DocumentBuilder(limits) { Properties = OpenXmlPackages.Properties(package), Title = OpenXmlPackages.Blank(package.PackageProperties.Title) };
        foreach (var element in body.ChildElements)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Add(element, builder, styles);
        }

        return builder.Build();
    }

    private static void Add(OpenXmlElement element, DocumentBuilder builder, StyleLevels styles)
    {
        switch (element)
        {
            case Paragraph paragraph:
                var text = TextOf(paragraph);
                switch (styles.Classify(paragraph))
                {
                    case StyleKind.Title:
                        builder.Title ??= text;
                        builder.Heading(1, text);
                        break;
                    case StyleKind.Heading heading:
                        builder.Heading(heading.Level, text);
                        break;
                    default:
                        builder.Paragraph(text);
                        break;
                }

                break;
            case Table table:
                AddTable(table, builder);
                break;
            case SdtBlock sdt when sdt.SdtContentBlock is { } content:
                // Content controls wrap ordinary paragraphs and tables.
                foreach (var child in content.ChildElements)
                {
                    Add(child, builder, styles);
                }

                break;
        }
    }

    private static void AddTable(Table table, DocumentBuilder builder)
    {
        var rows = new List<ParsedRow>();
        var header = 0;
        var leading = true;
        foreach (var row in table.Elements<WordRow>())
        {
            var cells = row.Elements<TableCell>().Select(c => CellText(c, 0)).ToList();
            rows.Add(new ParsedRow(cells));
            var repeats = row.TableRowProperties?.GetFirstChild<TableHeader>() is { } mark && (mark.Val is null || mark.Val.Value == OnOffOnlyValues.On);
            if (leading && repeats)
            {
                header++;
            }
            else
            {
                leading = false;
            }
        }

        builder.Table(rows, Math.Max(header, 1));
    }

    /// <summary>A cell's paragraphs and nested tables, flattened to one line of text.</summary>
    private static string CellText(OpenXmlElement cell, int depth)
    {
        var parts = new List<string>();
        foreach (var child in cell.ChildElements)
        {
            switch (child)
            {
                case Paragraph paragraph:
                    parts.Add(TextOf(paragraph));
                    break;
                case Table nested when depth < MaxNesting:
                    parts.AddRange(nested.Descendants<TableCell>().Select(c => CellText(c, depth + 1)));
                    break;
                case SdtElement sdt:
                    parts.Add(CellText(sdt, depth + 1));
                    break;
            }
        }

        return string.Join(" ", parts.Where(p => p.Length > 0));
    }

    /// <summary>The visible text of a paragraph: runs' text, tabs and breaks as spaces; deleted revisions left out.</summary>
    internal static string TextOf(OpenXmlElement paragraph)
    {
        var text = new StringBuilder();
        foreach (var node in paragraph.Descendants())
        {
            switch (node)
            {
                case Text t when node.Ancestors<DeletedRun>().FirstOrDefault() is null:
                    text.Append(t.Text);
                    break;
                case TabChar or Break or CarriageReturn:
                    text.Append(' ');
                    break;
                case NoBreakHyphen:
                    text.Append('-');
                    break;
            }
        }

        return text.ToString();
    }

    private abstract record StyleKind
    {
        public sealed record Body : StyleKind;

        public sealed record Title : StyleKind;

        public sealed record Heading(int Level) : StyleKind;
    }

    /// <summary>Style id → what paragraphs in that style are, following <c>basedOn</c>.</summary>
    private sealed partial class StyleLevels
    {
        private readonly Dictionary<string, Style> _styles = new(StringComparer.Ordinal);

        public static StyleLevels From(Styles? styles)
        {
            var levels = new StyleLevels();
            foreach (var style in styles?.Elements<Style>() ?? [])
            {
                if (style.StyleId?.Value is { } id)
                {
                    levels._styles.TryAdd(id, style);
                }
            }

            return levels;
        }

        public StyleKind Classify(Paragraph paragraph)
        {
            var properties = paragraph.ParagraphProperties;
            if (properties?.OutlineLevel?.Val?.Value is { } direct && direct < 9)
            {
                return new StyleKind.Heading(direct + 1);
            }

            var id = properties?.ParagraphStyleId?.Val?.Value;
            for (var hops = 0; id is not null && hops < 16 && _styles.TryGetValue(id, out var style); hops++)
            {
                var name = style.StyleName?.Val?.Value ?? id;
                if (name.Equals("Title", StringComparison.OrdinalIgnoreCase) || id.Equals("Title", StringComparison.OrdinalIgnoreCase))
                {
                    return new StyleKind.Title();
                }

                if (style.StyleParagraphProperties?.OutlineLevel?.Val?.Value is { } level && level < 9)
                {
                    return new StyleKind.Heading(level + 1);
                }

                if (HeadingName().Match(name) is { Success: true } match)
                {
                    return new StyleKind.Heading(int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture));
                }

                id = style.BasedOn?.Val?.Value;
            }

            return new StyleKind.Body();
        }

        [GeneratedRegex(@"^(?:heading|제목)\s*([1-9])$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
        private static partial Regex HeadingName();
    }
}
