using System.Globalization;

namespace RagPlatform.Sdk.Documents;

/// <summary>
/// Assembles a <see cref="ParsedDocument"/> as a parser walks a file in reading order: headings open sections
/// (a heading closes every open heading of its level or deeper), paragraphs and tables fill the current one.
/// Blank paragraphs, empty rows and empty tables are dropped; the text limit is checked as text arrives, so a
/// hostile file stops early.
/// </summary>
public sealed class DocumentBuilder(DocumentParseLimits limits)
{
    /// <summary>Longest heading kept in a heading path (a "heading" longer than this is a styled paragraph).</summary>
    public const int MaxHeadingChars = 300;

    private readonly List<DocumentSection> _sections = [];
    private readonly List<(int Level, string Text)> _headings = [];
    private List<DocumentBlock> _blocks = [];
    private long _chars;

    /// <summary>Whether anything was added since the innermost heading opened (a heading followed by nothing keeps its text).</summary>
    private bool _headingFilled = true;

    public string? Title { get; set; }

    public DocumentProperties Properties { get; set; } = DocumentProperties.None;

    public int? Pages { get; set; }

    /// <summary>The first heading seen, a fallback title.</summary>
    public string? FirstHeading { get; private set; }

    /// <summary>Opens a section under a heading of <paramref name="level"/> (1 = outermost).</summary>
    public void Heading(int level, string text)
    {
        text = Clean(text);
        if (text.Length == 0)
        {
            return;
        }

        if (text.Length > MaxHeadingChars)
        {
            Paragraph(text);
            return;
        }

        level = Math.Clamp(level, 1, 9);
        if (_headings.Count > 0 && _headings[^1].Level >= level)
        {
            KeepEmptyHeading();
        }

        CloseSection();
        _headings.RemoveAll(h => h.Level >= level);
        _headings.Add((level, text));
        _headingFilled = false;
        FirstHeading ??= text;
        Count(text.Length);
    }

    /// <summary>
    /// A heading closed before anything followed it (numbered outline lines, a heading-only page) would otherwise live
    /// only in no path at all: its text becomes its own section's paragraph.
    /// </summary>
    private void KeepEmptyHeading()
    {
        if (!_headingFilled && _blocks.Count == 0)
        {
            _blocks.Add(new ParagraphBlock(_headings[^1].Text));
        }

        _headingFilled = true;
    }

    public void Paragraph(string text, int? page = null)
    {
        text = Clean(text);
        if (text.Length == 0)
        {
            return;
        }

        Count(text.Length);
        _blocks.Add(new ParagraphBlock(text, page));
        _headingFilled = true;
    }

    /// <summary>Adds a table; rows without any text are dropped, and the header count shrinks with them.</summary>
    public void Table(IEnumerable<TableRow> rows, int headerRows = 1, string? caption = null)
    {
        var kept = new List<TableRow>();
        var header = 0;
        var index = 0;
        foreach (var row in rows)
        {
            var cells = row.Cells.Select(Clean).ToList();
            if (cells.Exists(c => c.Length > 0))
            {
                // Trailing empty cells carry nothing.
                while (cells.Count > 0 && cells[^1].Length == 0)
                {
                    cells.RemoveAt(cells.Count - 1);
                }

                Count(cells.Sum(c => (long)c.Length));
                kept.Add(row with { Cells = cells });
                if (index < headerRows)
                {
                    header++;
                }
            }

            index++;
        }

        if (kept.Count == 0)
        {
            return;
        }

        // A one-row table is a layout box, not data: its text is a paragraph.
        if (kept.Count == 1)
        {
            _blocks.Add(new ParagraphBlock(string.Join(" ", kept[0].Cells.Where(c => c.Length > 0)), kept[0].Page));
            _headingFilled = true;
            return;
        }

        caption = caption is null ? null : Clean(caption);
        _blocks.Add(new TableBlock(kept, Math.Min(header, kept.Count - 1), string.IsNullOrEmpty(caption) ? null : caption));
        _headingFilled = true;
    }

    /// <summary>The document; throws <see cref="DocumentParseFailure.Empty"/> when no text was found.</summary>
    public ParsedDocument Build()
    {
        if (_headings.Count > 0)
        {
            KeepEmptyHeading();
        }

        CloseSection();
        if (_sections.Count == 0)
        {
            throw new DocumentParseException(DocumentParseFailure.Empty,
                "The file holds no body text to index: its pages hold only images, drawings or form controls, or text in page headers " +
                "and footers (scanned documents need OCR first).");
        }

        var title = Title is null ? null : Clean(Title);
        return new ParsedDocument(string.IsNullOrEmpty(title) ? FirstHeading : title, _sections, Properties, Pages);
    }

    private void CloseSection()
    {
        if (_blocks.Count == 0)
        {
            return;
        }

        _sections.Add(new DocumentSection(_headings.Select(h => h.Text).ToList(), _blocks));
        _blocks = [];
    }

    private void Count(long chars)
    {
        _chars += chars;
        if (_chars > limits.MaxTextChars)
        {
            throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The document holds more than {limits.MaxTextChars:N0} characters of text (RagPlatform:Ingestion:MaxDocumentChars); split it."));
        }
    }

    /// <summary>Whitespace runs collapse to one space; control characters go (line structure is the blocks').</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var builder = new System.Text.StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c == '\u00A0')
            {
                space = builder.Length > 0;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
