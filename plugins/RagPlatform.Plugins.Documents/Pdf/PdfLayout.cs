using RagPlatform.Sdk.Documents;
using UglyToad.PdfPig.Content;

namespace RagPlatform.Plugins.Documents.Pdf;

/// <summary>A piece of a line: text that runs without a wide gap (a table cell, or the whole line).</summary>
internal sealed record PdfSegment(string Text, double Left, double Right);

/// <summary>One line of a page: its pieces left to right, its baseline, text size, and whether it is bold.</summary>
internal sealed record PdfLine(int Page, IReadOnlyList<PdfSegment> Segments, double Baseline, double Size, bool Bold)
{
    public string Text => string.Join(" ", Segments.Select(s => s.Text));
}

/// <summary>Line building and block classification for <see cref="PdfDocumentParser"/>; pure functions of the letters.</summary>
internal static class PdfLayout
{
    /// <summary>A gap wider than this many times the text size separates cells; a narrower one is a word space.</summary>
    private const double CellGap = 1.6;

    /// <summary>A gap wider than this many times the text size is a word space when the PDF draws no space glyph.</summary>
    private const double WordGap = 0.18;

    public static IEnumerable<PdfLine> Lines(IReadOnlyList<Letter> letters, int page)
    {
        var current = new List<Letter>();
        foreach (var letter in letters)
        {
            if (letter.TextOrientation is not (TextOrientation.Horizontal or TextOrientation.Other) || letter.Value.Length == 0)
            {
                continue;
            }

            if (current.Count > 0 && !SameLine(current[^1], letter))
            {
                if (MakeLine(current, page) is { } line)
                {
                    yield return line;
                }

                current.Clear();
            }

            current.Add(letter);
        }

        if (MakeLine(current, page) is { } last)
        {
            yield return last;
        }
    }

    private static bool SameLine(Letter previous, Letter next)
    {
        var size = Math.Max(Size(previous), 1);
        // Same baseline (within a third of the text size), and not jumping back to the left margin.
        return Math.Abs(previous.StartBaseLine.Y - next.StartBaseLine.Y) <= size * 0.35
            && next.StartBaseLine.X >= previous.StartBaseLine.X - size * 0.5;
    }

    private static double Size(Letter letter) => letter.PointSize > 0 ? letter.PointSize : Math.Max(letter.BoundingBox.Height, 1);

    private static PdfLine? MakeLine(List<Letter> letters, int page)
    {
        if (letters.Count == 0)
        {
            return null;
        }

        var segments = new List<PdfSegment>();
        var text = new System.Text.StringBuilder();
        double left = 0, right = 0;
        Letter? previous = null;
        var spacePending = false;
        double sizeSum = 0;
        var sizeCount = 0;
        var boldChars = 0;
        foreach (var letter in letters)
        {
            var value = letter.Value;
            if (string.IsNullOrWhiteSpace(value))
            {
                spacePending = text.Length > 0;
                continue;
            }

            var size = Size(letter);
            if (previous is not null)
            {
                var gap = letter.StartBaseLine.X - previous.EndBaseLine.X;
                if (gap > size * CellGap)
                {
                    segments.Add(new PdfSegment(text.ToString(), left, right));
                    text.Clear();
                    spacePending = false;
                }
                else if (spacePending || gap > size * WordGap)
                {
                    text.Append(' ');
                    spacePending = false;
                }
            }

            if (text.Length == 0)
            {
                left = letter.StartBaseLine.X;
            }

            text.Append(value);
            right = letter.EndBaseLine.X;
            previous = letter;
            sizeSum += size;
            sizeCount++;
            if (letter.FontDetails?.IsBold == true || (letter.FontName?.Contains("Bold", StringComparison.OrdinalIgnoreCase) ?? false))
            {
                boldChars++;
            }
        }

        if (text.Length > 0)
        {
            segments.Add(new PdfSegment(text.ToString(), left, right));
        }

        if (segments.Count == 0)
        {
            return null;
        }

        return new PdfLine(page, segments, letters[0].StartBaseLine.Y, sizeSum / sizeCount, boldChars * 2 > sizeCount);
    }

    /// <summary>
    /// Page furniture: a line among the first or last two of a page whose text (digits aside) recurs there on at least half
    /// of three or more pages — running heads, footers, page numbers. It is dropped so it neither splits paragraphs nor
    /// turns up as chunks of its own.
    /// </summary>
    public static IReadOnlyList<PdfLine> WithoutRunningHeadsAndFeet(IReadOnlyList<PdfLine> lines)
    {
        var pages = lines.GroupBy(l => l.Page).ToList();
        if (pages.Count < 3)
        {
            return lines;
        }

        static string Key(PdfLine line) => System.Text.RegularExpressions.Regex.Replace(line.Text, @"\d+", "#").Trim();
        var edges = pages.SelectMany(page =>
        {
            var onPage = page.ToList();
            return onPage.Take(2).Concat(onPage.TakeLast(2)).Distinct().Select(l => (Line: l, Key: Key(l)));
        }).ToList();
        var recurring = edges.GroupBy(e => e.Key)
            .Where(g => g.Select(e => e.Line.Page).Distinct().Count() >= Math.Max(3, pages.Count / 2))
            .Select(g => g.Key)
            .ToHashSet(StringComparer.Ordinal);
        if (recurring.Count == 0)
        {
            return lines;
        }

        var furniture = edges.Where(e => recurring.Contains(e.Key)).Select(e => e.Line).ToHashSet();
        return lines.Where(l => !furniture.Contains(l)).ToList();
    }

    /// <summary>Headings, tables and paragraphs from the lines of every page, in order.</summary>
    public static void Build(IReadOnlyList<PdfLine> lines, DocumentBuilder builder)
    {
        lines = WithoutRunningHeadsAndFeet(lines);
        if (lines.Count == 0)
        {
            return;
        }

        var body = BodySize(lines);
        // Distinct heading sizes, largest first: level 1 is the largest text on the pages.
        var headingSizes = lines.Where(l => IsHeading(l, body)).Select(l => Math.Round(l.Size)).Distinct().OrderDescending().ToList();

        var paragraph = new List<PdfLine>();
        var table = new List<PdfLine>();
        void FlushParagraph()
        {
            if (paragraph.Count > 0)
            {
                builder.Paragraph(string.Join(" ", paragraph.Select(l => l.Text)), paragraph[0].Page);
                paragraph.Clear();
            }
        }

        void FlushTable()
        {
            if (table.Count == 0)
            {
                return;
            }

            if (table.Count == 1)
            {
                // A lone line with a wide gap (a label and its value, a tab stop) is text, not a table.
                paragraph.Add(table[0]);
                FlushParagraph();
            }
            else
            {
                builder.Table(table.Select(l => new TableRow(l.Segments.Select(s => s.Text).ToList(), l.Page)).ToList(), headerRows: 1);
            }

            table.Clear();
        }

        PdfLine? previous = null;
        foreach (var line in lines)
        {
            if (line.Segments.Count >= 2 && !IsHeading(line, body))
            {
                FlushParagraph();
                if (table.Count > 0 && (table[^1].Page != line.Page && !SameColumns(table[^1], line)))
                {
                    FlushTable();
                }

                table.Add(line);
                previous = line;
                continue;
            }

            FlushTable();
            if (IsHeading(line, body))
            {
                FlushParagraph();
                builder.Heading(headingSizes.IndexOf(Math.Round(line.Size)) + 1, line.Text);
                previous = line;
                continue;
            }

            if (previous is not null && paragraph.Count > 0 && !Continues(previous, line))
            {
                FlushParagraph();
            }

            paragraph.Add(line);
            previous = line;
        }

        FlushTable();
        FlushParagraph();
    }

    /// <summary>The size most of the text is set in (weighted by characters).</summary>
    private static double BodySize(IReadOnlyList<PdfLine> lines) =>
        lines.GroupBy(l => Math.Round(l.Size * 2) / 2)
            .OrderByDescending(g => g.Sum(l => l.Text.Length))
            .First().Key;

    /// <summary>Set clearly larger than the body, short, and on one piece: a heading.</summary>
    private static bool IsHeading(PdfLine line, double body) =>
        line.Segments.Count == 1 && line.Text.Length <= DocumentBuilder.MaxHeadingChars
        && (line.Size >= body * 1.15 || (line.Bold && line.Size >= body * 1.05 && line.Text.Length <= 80));

    /// <summary>
    /// The next line of the same paragraph: same size, and either on the same page no further down than line spacing,
    /// or the first line of the next page after a line that ends mid-sentence (a paragraph running over a page break).
    /// </summary>
    private static bool Continues(PdfLine previous, PdfLine next)
    {
        if (Math.Abs(previous.Size - next.Size) > previous.Size * 0.1)
        {
            return false;
        }

        if (previous.Page == next.Page)
        {
            return previous.Baseline - next.Baseline is var drop && drop > 0 && drop <= previous.Size * 1.8;
        }

        return next.Page == previous.Page + 1 && !EndsSentence(previous.Text);
    }

    private static bool EndsSentence(string text) =>
        text.Length > 0 && text[^1] is '.' or '!' or '?' or ':' or ';' or '。' or '"' or '”' or ')' or ']';

    /// <summary>A table continued on the next page has the same columns.</summary>
    private static bool SameColumns(PdfLine a, PdfLine b) =>
        a.Segments.Count == b.Segments.Count
        && a.Segments.Zip(b.Segments).All(p => Math.Abs(p.First.Left - p.Second.Left) <= Math.Max(a.Size, 4) * 2);
}
