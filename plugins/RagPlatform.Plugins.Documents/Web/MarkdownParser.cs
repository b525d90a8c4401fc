using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using RagPlatform.Sdk.Documents;
using MarkdigParagraph = Markdig.Syntax.ParagraphBlock;
using MarkdigTable = Markdig.Extensions.Tables.Table;
using MarkdigTableRow = Markdig.Extensions.Tables.TableRow;

namespace RagPlatform.Plugins.Documents.Web;

/// <summary>
/// Markdown through Markdig (CommonMark plus pipe and grid tables, YAML front matter skipped): ATX and setext headings
/// open sections, paragraphs, list items, quotes and code blocks are paragraphs, tables keep rows and cells.
/// </summary>
internal sealed class MarkdownParser : IDocumentParser
{
    private const int MaxNesting = 64;

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseGridTables()
        .UseYamlFrontMatter()
        .Build();

    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken) =>
        LibraryGuard.Run("Markdown", () => Parse(source, limits, cancellationToken));

    private static ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        var text = TextDecoding.Decode(source.Content.Span);
        var document = Markdown.Parse(text, Pipeline);
        var builder = new DocumentBuilder(limits);
        foreach (var block in document)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Add(block, builder, 0);
        }

        return builder.Build();
    }

    private static void Add(Block block, DocumentBuilder builder, int depth)
    {
        switch (block)
        {
            case HeadingBlock heading:
                builder.Heading(heading.Level, InlineText(heading.Inline));
                break;
            case MarkdigTable table:
                builder.Table(table.OfType<MarkdigTableRow>()
                    .Select(row => new Sdk.Documents.TableRow(row.OfType<TableCell>().Select(CellText).ToList()))
                    .ToList(), headerRows: Math.Max(1, table.OfType<MarkdigTableRow>().TakeWhile(r => r.IsHeader).Count()));
                break;
            case MarkdigParagraph paragraph:
                builder.Paragraph(InlineText(paragraph.Inline));
                break;
            case CodeBlock code:
                builder.Paragraph(string.Join(" ", code.Lines.Lines.Take(code.Lines.Count).Select(l => l.ToString())));
                break;
            case ThematicBreakBlock or Markdig.Extensions.Yaml.YamlFrontMatterBlock or LinkReferenceDefinitionGroup:
                break;
            case HtmlBlock html:
                builder.Paragraph(StripTags(string.Join(" ", html.Lines.Lines.Take(html.Lines.Count).Select(l => l.ToString()))));
                break;
            case ContainerBlock container when depth < MaxNesting:
                foreach (var child in container)
                {
                    Add(child, builder, depth + 1);
                }

                break;
            case LeafBlock leaf:
                builder.Paragraph(InlineText(leaf.Inline));
                break;
        }
    }

    private static string CellText(TableCell cell) =>
        string.Join(" ", cell.OfType<LeafBlock>().Select(b => InlineText(b.Inline)));

    private static string InlineText(ContainerInline? inline)
    {
        if (inline is null)
        {
            return string.Empty;
        }

        var text = new System.Text.StringBuilder();
        foreach (var node in inline.Descendants())
        {
            switch (node)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.ToString());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
                case LineBreakInline:
                    text.Append(' ');
                    break;
                case AutolinkInline link:
                    text.Append(link.Url);
                    break;
            }
        }

        return text.ToString();
    }

    private static string StripTags(string html) => System.Text.RegularExpressions.Regex.Replace(html, "<[^>]*>", " ");
}
