using System.Text;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Core.Text;

/// <summary>A chunk of a parsed file: its text and where it came from (heading path, pages).</summary>
public sealed record LocatedChunk(string Text, ChunkLocation Location);

/// <summary>
/// Chunks a parsed file along its structure. A chunk never crosses from one section into the next: each section's
/// paragraphs are chunked on their own with the collection's <see cref="KoreanChunker"/> (sentence boundaries, token
/// budget, overlap), and a table interrupts them. A table is chunked by rows: as many whole rows as fit, each chunk
/// starting with the table's caption and header rows, so a row found by search still says what its columns mean
/// (a row too long for one chunk is split, each piece still under the header). Every chunk carries its section's
/// heading path and the pages of the paragraphs or rows it holds.
/// </summary>
public static class StructuredChunker
{
    /// <summary>Longest heading path kept on a chunk (deeper paths keep their innermost headings).</summary>
    public const int MaxSectionChars = 1_000;

    private const string CellSeparator = " | ";

    public static IReadOnlyList<LocatedChunk> Chunk(ParsedDocument document, KoreanChunker chunker)
    {
        var chunks = new List<LocatedChunk>();
        foreach (var section in document.Sections)
        {
            var path = SectionPath(section.HeadingPath);
            var run = new List<ParagraphBlock>();
            foreach (var block in section.Blocks)
            {
                switch (block)
                {
                    case ParagraphBlock paragraph:
                        run.Add(paragraph);
                        break;
                    case TableBlock table:
                        ChunkParagraphs(run, path, chunker, chunks);
                        run.Clear();
                        ChunkTable(table, path, chunker, chunks);
                        break;
                }
            }

            ChunkParagraphs(run, path, chunker, chunks);
        }

        return chunks;
    }

    /// <summary>"1. 개요 > 1.2 범위", shortened from the outside in when it is too long.</summary>
    public static string? SectionPath(IReadOnlyList<string> headings)
    {
        if (headings.Count == 0)
        {
            return null;
        }

        var path = string.Join(ChunkLocation.PathSeparator, headings);
        for (var skip = 1; path.Length > MaxSectionChars && skip < headings.Count; skip++)
        {
            path = "…" + ChunkLocation.PathSeparator + string.Join(ChunkLocation.PathSeparator, headings.Skip(skip));
        }

        return path.Length > MaxSectionChars ? path[..MaxSectionChars] : path;
    }

    private static void ChunkParagraphs(List<ParagraphBlock> paragraphs, string? section, KoreanChunker chunker, List<LocatedChunk> chunks)
    {
        if (paragraphs.Count == 0)
        {
            return;
        }

        // One text with a line per paragraph; the offsets map each chunk back to the pages of its paragraphs.
        var text = new StringBuilder();
        var starts = new int[paragraphs.Count];
        for (var i = 0; i < paragraphs.Count; i++)
        {
            if (i > 0)
            {
                text.Append('\n');
            }

            starts[i] = text.Length;
            text.Append(paragraphs[i].Text);
        }

        foreach (var chunk in chunker.Chunk(text.ToString()))
        {
            var first = Paragraph(starts, chunk.Start);
            var last = Paragraph(starts, chunk.Start + Math.Max(chunk.Length - 1, 0));
            chunks.Add(new LocatedChunk(chunk.Text, Location(section, paragraphs.Skip(first).Take(last - first + 1).Select(p => p.Page))));
        }
    }

    private static int Paragraph(int[] starts, int offset)
    {
        var index = Array.BinarySearch(starts, offset);
        return index >= 0 ? index : Math.Max(0, ~index - 1);
    }

    private static void ChunkTable(TableBlock table, string? section, KoreanChunker chunker, List<LocatedChunk> chunks)
    {
        var header = new StringBuilder();
        if (table.Caption is { Length: > 0 } caption)
        {
            header.Append(caption).Append('\n');
        }

        var headerRows = Math.Clamp(table.HeaderRows, 0, table.Rows.Count);
        foreach (var row in table.Rows.Take(headerRows))
        {
            header.Append(RowText(row)).Append('\n');
        }

        // A header that eats most of the budget is not repeated: its rows are then chunked like the others.
        var headerText = header.ToString();
        var headerTokens = headerText.Length == 0 ? 0 : chunker.CountTokens(headerText);
        var body = table.Rows.Skip(headerRows);
        if (headerTokens > chunker.MaxTokens / 2)
        {
            headerText = table.Caption is { Length: > 0 } ? table.Caption + "\n" : string.Empty;
            headerTokens = headerText.Length == 0 ? 0 : chunker.CountTokens(headerText);
            body = table.Rows;
        }

        var budget = Math.Max(1, chunker.MaxTokens - headerTokens);
        var rows = new StringBuilder();
        var pages = new List<int?>();
        var used = 0;
        void Flush()
        {
            if (rows.Length > 0)
            {
                chunks.Add(new LocatedChunk(headerText + rows.ToString().TrimEnd('\n'), Location(section, pages)));
                rows.Clear();
                pages.Clear();
                used = 0;
            }
        }

        var any = false;
        foreach (var row in body)
        {
            any = true;
            var text = RowText(row);
            var tokens = chunker.CountTokens(text);
            if (tokens > budget)
            {
                // A row longer than a chunk: its pieces each go out under the header.
                Flush();
                var splitter = new KoreanChunker(budget, 0, chunker.CountTokens);
                foreach (var piece in splitter.Chunk(text))
                {
                    chunks.Add(new LocatedChunk(headerText + piece.Text, Location(section, [row.Page])));
                }

                continue;
            }

            if (used > 0 && used + tokens > budget)
            {
                Flush();
            }

            rows.Append(text).Append('\n');
            pages.Add(row.Page);
            used += tokens;
        }

        Flush();
        if (!any && headerText.Length > 0)
        {
            // Only header rows: still searchable.
            chunks.Add(new LocatedChunk(headerText.TrimEnd('\n'), Location(section, table.Rows.Select(r => r.Page))));
        }
    }

    private static string RowText(TableRow row) => string.Join(CellSeparator, row.Cells);

    private static ChunkLocation Location(string? section, IEnumerable<int?> pages)
    {
        int? start = null, end = null;
        foreach (var page in pages)
        {
            if (page is { } p)
            {
                start = start is { } s ? Math.Min(s, p) : p;
                end = end is { } e ? Math.Max(e, p) : p;
            }
        }

        return new ChunkLocation(section, start, end);
    }

}
