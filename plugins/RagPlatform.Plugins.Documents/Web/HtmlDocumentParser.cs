using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Web;

/// <summary>
/// HTML through AngleSharp's HTML5 parser: the main content (<c>&lt;main&gt;</c>, else the largest <c>&lt;article&gt;</c>,
/// else the body) without scripts, styles, navigation, headers, footers, asides, forms and hidden elements;
/// h1–h6 open sections, tables keep rows and cells (<c>&lt;thead&gt;</c> or all-<c>&lt;th&gt;</c> rows are the header),
/// other block elements become paragraphs. Title from <c>&lt;title&gt;</c>, author and dates from meta tags.
/// </summary>
internal sealed class HtmlDocumentParser : IDocumentParser
{
    private const int MaxNesting = 256;

    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg", "canvas",
        "iframe", "object", "embed", "button", "select", "input", "textarea", "head", "menu", "dialog",
    };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "figure",
        "figcaption", "address", "details", "summary", "body", "center", "fieldset", "hr", "br", "caption", "tr", "td", "th",
    };

    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken) =>
        LibraryGuard.Run("HTML", () => Parse(source, limits, cancellationToken));

    private static ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        var html = TextDecoding.Decode(source.Content.Span);
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument(html);
        var builder = new DocumentBuilder(limits)
        {
            Title = document.Title,
            Properties = new DocumentProperties(
                Author: Meta(document, "author"),
                Created: Date(Meta(document, "article:published_time") ?? Meta(document, "date") ?? Meta(document, "dcterms.created")),
                Modified: Date(Meta(document, "article:modified_time") ?? Meta(document, "last-modified") ?? Meta(document, "dcterms.modified")),
                Subject: Meta(document, "description"),
                Keywords: Meta(document, "keywords")),
        };

        var root = MainContent(document);
        if (root is not null)
        {
            var paragraph = new StringBuilder();
            Walk(root, builder, paragraph, 0, cancellationToken);
            Flush(builder, paragraph);
        }

        return builder.Build();
    }

    private static IElement? MainContent(IHtmlDocument document)
    {
        if (document.QuerySelector("main") is { } main)
        {
            return main;
        }

        var articles = document.QuerySelectorAll("article");
        return articles.Length > 0 ? articles.MaxBy(a => a.TextContent.Length) : document.Body;
    }

    private static void Walk(INode node, DocumentBuilder builder, StringBuilder paragraph, int depth, CancellationToken cancellationToken)
    {
        foreach (var child in node.ChildNodes)
        {
            if (child is IText text)
            {
                paragraph.Append(text.Data);
                continue;
            }

            if (child is not IElement element || Dropped.Contains(element.LocalName) || IsHidden(element))
            {
                continue;
            }

            var name = element.LocalName;
            if (name.Length == 2 && name[0] is 'h' or 'H' && name[1] is >= '1' and <= '6')
            {
                Flush(builder, paragraph);
                builder.Heading(name[1] - '0', element.TextContent);
                continue;
            }

            if (name.Equals("table", StringComparison.OrdinalIgnoreCase))
            {
                Flush(builder, paragraph);
                AddTable(element, builder);
                continue;
            }

            var block = Blocks.Contains(name);
            if (block)
            {
                Flush(builder, paragraph);
            }

            if (depth < MaxNesting)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Walk(element, builder, paragraph, depth + 1, cancellationToken);
            }
            else
            {
                paragraph.Append(' ').Append(element.TextContent);
            }

            if (block)
            {
                Flush(builder, paragraph);
            }
        }
    }

    private static void AddTable(IElement table, DocumentBuilder builder)
    {
        var rows = table.QuerySelectorAll("tr").Where(r => r.Closest("table") == table).ToList();
        var header = rows.TakeWhile(r => r.ParentElement?.LocalName == "thead" || (r.Children.Length > 0 && r.Children.All(c => c.LocalName == "th"))).Count();
        builder.Table(
            rows.Select(r => new TableRow(r.Children.Where(c => c.LocalName is "td" or "th").Select(c => c.TextContent).ToList())).ToList(),
            Math.Max(header, 1),
            table.QuerySelector("caption")?.TextContent);
    }

    private static void Flush(DocumentBuilder builder, StringBuilder paragraph)
    {
        if (paragraph.Length > 0)
        {
            builder.Paragraph(paragraph.ToString());
            paragraph.Clear();
        }
    }

    private static bool IsHidden(IElement element) =>
        element.HasAttribute("hidden")
        || string.Equals(element.GetAttribute("aria-hidden"), "true", StringComparison.OrdinalIgnoreCase)
        || (element.GetAttribute("style")?.Replace(" ", string.Empty, StringComparison.Ordinal).Contains("display:none", StringComparison.OrdinalIgnoreCase) ?? false);

    private static string? Meta(IHtmlDocument document, string name)
    {
        foreach (var meta in document.QuerySelectorAll("meta"))
        {
            if (string.Equals(meta.GetAttribute("name"), name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(meta.GetAttribute("property"), name, StringComparison.OrdinalIgnoreCase))
            {
                var content = meta.GetAttribute("content");
                return string.IsNullOrWhiteSpace(content) ? null : content.Trim();
            }
        }

        return null;
    }

    private static DateTimeOffset? Date(string? value) =>
        DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var date) ? date : null;
}
