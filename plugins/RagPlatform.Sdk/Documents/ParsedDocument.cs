namespace RagPlatform.Sdk.Documents;

/// <summary>
/// A file turned into structure: its title, its sections in reading order (each with the path of headings
/// above it), their paragraphs and tables, the pages they came from where the format has pages, and the
/// file's own properties (author, dates). Text is as the file holds it; the host normalises it.
/// </summary>
/// <param name="Pages">The number of pages (PDF pages, slides; null for formats without pages).</param>
public sealed record ParsedDocument(
    string? Title,
    IReadOnlyList<DocumentSection> Sections,
    DocumentProperties Properties,
    int? Pages)
{
    /// <summary>Every heading (once), paragraph and table cell, in order: what a search could find in the document.</summary>
    public IEnumerable<string> Texts()
    {
        IReadOnlyList<string> previous = [];
        foreach (var section in Sections)
        {
            // The headings this section opens (its path minus what it shares with the previous one); a heading with
            // nothing under it is its own section's paragraph (DocumentBuilder), so it is not counted twice.
            var shared = 0;
            while (shared < previous.Count && shared < section.HeadingPath.Count && previous[shared] == section.HeadingPath[shared])
            {
                shared++;
            }

            for (var i = shared; i < section.HeadingPath.Count; i++)
            {
                if (i < section.HeadingPath.Count - 1 || section.Blocks is not [ParagraphBlock { Text: var only }] || only != section.HeadingPath[i])
                {
                    yield return section.HeadingPath[i];
                }
            }

            previous = section.HeadingPath;

            foreach (var block in section.Blocks)
            {
                switch (block)
                {
                    case ParagraphBlock paragraph:
                        yield return paragraph.Text;
                        break;
                    case TableBlock table:
                        foreach (var row in table.Rows)
                        {
                            foreach (var cell in row.Cells)
                            {
                                yield return cell;
                            }
                        }

                        break;
                }
            }
        }
    }

    /// <summary>Characters of body text (paragraphs and cells), for limits and measurements.</summary>
    public long TextLength => Texts().Sum(t => (long)t.Length);
}

/// <summary>
/// A run of content under one heading path (outermost heading first; empty before the first heading). A new
/// heading at any level starts a new section; chunking does not cross from one section into the next.
/// </summary>
public sealed record DocumentSection(IReadOnlyList<string> HeadingPath, IReadOnlyList<DocumentBlock> Blocks);

/// <summary>A paragraph or a table.</summary>
public abstract record DocumentBlock;

/// <summary>A paragraph of text and the page it starts on (1-based; null where the format has no pages).</summary>
public sealed record ParagraphBlock(string Text, int? Page = null) : DocumentBlock;

/// <summary>
/// A table as rows of cells. The first <see cref="HeaderRows"/> rows are its header: chunking repeats them in
/// every chunk of the table, so a row found by search still says what its columns mean.
/// </summary>
public sealed record TableBlock(IReadOnlyList<TableRow> Rows, int HeaderRows = 1, string? Caption = null) : DocumentBlock;

/// <summary>One row of a table: its cells' text, left to right, and the page the row sits on.</summary>
public sealed record TableRow(IReadOnlyList<string> Cells, int? Page = null);

/// <summary>What the file says about itself; every field is optional.</summary>
public sealed record DocumentProperties(
    string? Author = null,
    DateTimeOffset? Created = null,
    DateTimeOffset? Modified = null,
    string? Subject = null,
    string? Keywords = null)
{
    public static readonly DocumentProperties None = new();
}
