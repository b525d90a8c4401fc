using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Hancom;

/// <summary>
/// HWPX (OWPML, KS X 6101): a ZIP package whose <c>Contents/content.hpf</c> lists the body sections
/// (<c>Contents/sectionN.xml</c>) in order. Each section is streamed with <see cref="XmlReader"/> (no DTDs, every
/// inflated byte counted): paragraphs (<c>hp:p</c>) with their text runs (<c>hp:t</c>), tables (<c>hp:tbl</c> → rows
/// <c>hp:tr</c> → cells <c>hp:tc</c>, header cells marked <c>header="1"</c>), text boxes, footnotes, 덧말 and 글맵시 in place;
/// page headers and footers left out. Paragraphs in the "Outline N" (개요 N) styles of <c>header.xml</c> are headings.
/// The file keeps no page numbers (pagination is the word processor's layout), so none are reported.
/// </summary>
internal sealed partial class HwpxParser : IDocumentParser
{
    private const string ParagraphNamespace = "http://www.hancom.co.kr/hwpml/2011/paragraph";

    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult(Parse(source, limits, cancellationToken));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            // A damaged entry (bad compression data, a truncated archive) anywhere in the package.
            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The HWPX package is damaged: " + ex.Message, ex);
        }
    }

    private static ParsedDocument Parse(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        using var archive = ArchiveGuard.Open(source, limits);
        var budget = new InflateBudget(limits.MaxDecompressedBytes);
        if (archive.GetEntry("META-INF/manifest.xml") is { } manifest && ReadText(manifest, budget).Contains("encryption-data", StringComparison.Ordinal))
        {
            throw new DocumentParseException(DocumentParseFailure.Protected,
                "The HWPX document is password-protected (encrypted entries); save an unprotected copy to index it.");
        }

        var builder = new DocumentBuilder(limits);
        var sections = SectionEntries(archive, budget, builder);
        if (sections.Count == 0)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The HWPX package has no body sections (Contents/section0.xml is missing).");
        }

        var outline = archive.GetEntry("Contents/header.xml") is { } header ? OutlineStyles(header, budget) : [];
        foreach (var entry in sections)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var stream = new LimitedReadStream(entry.Open(), budget);
                using var reader = XmlReader.Create(stream, ReaderSettings);
                new SectionWalker(builder, outline).Walk(reader, cancellationToken);
            }
            catch (XmlException ex)
            {
                throw new DocumentParseException(DocumentParseFailure.Corrupt, $"{entry.FullName} is not well-formed XML: {ex.Message}", ex);
            }
            catch (InvalidDataException ex)
            {
                throw new DocumentParseException(DocumentParseFailure.Corrupt, $"{entry.FullName} cannot be inflated: {ex.Message}", ex);
            }
        }

        return builder.Build();
    }

    internal static readonly XmlReaderSettings ReaderSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        CloseInput = false,
    };

    /// <summary>The section entries in spine order (content.hpf), else by their number; also reads the package metadata.</summary>
    private static List<ZipArchiveEntry> SectionEntries(ZipArchive archive, InflateBudget budget, DocumentBuilder builder)
    {
        var ordered = new List<ZipArchiveEntry>();
        if (archive.GetEntry("Contents/content.hpf") is { } package)
        {
            try
            {
                var items = new Dictionary<string, string>(StringComparer.Ordinal);
                var spine = new List<string>();
                string? creator = null, created = null, modified = null, subject = null, keywords = null;
                using var stream = new LimitedReadStream(package.Open(), budget);
                using var reader = XmlReader.Create(stream, ReaderSettings);
                while (reader.Read())
                {
                    if (reader.NodeType != XmlNodeType.Element)
                    {
                        continue;
                    }

                    switch (reader.LocalName)
                    {
                        case "item" when reader.GetAttribute("id") is { } id && reader.GetAttribute("href") is { } href:
                            items[id] = href;
                            break;
                        case "itemref" when reader.GetAttribute("idref") is { } idref:
                            spine.Add(idref);
                            break;
                        case "title" when !reader.IsEmptyElement:
                            builder.Title = reader.ReadElementContentAsString();
                            break;
                        case "meta" when !reader.IsEmptyElement:
                            var name = reader.GetAttribute("name");
                            var value = reader.ReadElementContentAsString();
                            switch (name)
                            {
                                case "creator": creator = value; break;
                                case "CreatedDate": created = value; break;
                                case "ModifiedDate": modified = value; break;
                                case "subject": subject = value; break;
                                case "keyword": keywords = value; break;
                            }

                            break;
                    }
                }

                builder.Properties = new DocumentProperties(Blank(creator), Date(created), Date(modified), Blank(subject), Blank(keywords));
                foreach (var idref in spine)
                {
                    if (items.TryGetValue(idref, out var href) && SectionName().IsMatch(href) && archive.GetEntry(href) is { } entry)
                    {
                        ordered.Add(entry);
                    }
                }
            }
            catch (XmlException)
            {
                // A damaged package file still leaves the sections readable by their names (below).
                ordered.Clear();
            }
        }

        if (ordered.Count == 0)
        {
            ordered = archive.Entries
                .Where(e => SectionName().IsMatch(e.FullName))
                .OrderBy(e => int.Parse(SectionName().Match(e.FullName).Groups[1].ValueSpan, CultureInfo.InvariantCulture))
                .ToList();
        }

        return ordered;
    }

    /// <summary>Style id → outline level, for the styles named "Outline N" (개요 N).</summary>
    private static Dictionary<string, int> OutlineStyles(ZipArchiveEntry header, InflateBudget budget)
    {
        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            using var stream = new LimitedReadStream(header.Open(), budget);
            using var reader = XmlReader.Create(stream, ReaderSettings);
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "style" || reader.GetAttribute("id") is not { } id)
                {
                    continue;
                }

                var match = OutlineName().Match(reader.GetAttribute("engName") ?? string.Empty);
                if (!match.Success)
                {
                    match = OutlineName().Match(reader.GetAttribute("name") ?? string.Empty);
                }

                if (match.Success)
                {
                    levels[id] = int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (XmlException)
        {
            // Without styles every paragraph is body text; the text itself is still read.
        }

        return levels;
    }

    private static string ReadText(ZipArchiveEntry entry, InflateBudget budget)
    {
        using var stream = new LimitedReadStream(entry.Open(), budget);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static DateTimeOffset? Date(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null;

    [GeneratedRegex(@"^Contents/section(\d{1,4})\.xml$", RegexOptions.CultureInvariant)]
    private static partial Regex SectionName();

    [GeneratedRegex(@"^(?:Outline|개요)\s*([1-9])$", RegexOptions.CultureInvariant)]
    private static partial Regex OutlineName();

    /// <summary>
    /// One section's elements as a stack of open paragraphs, tables, rows and cells. A paragraph's text goes to the
    /// innermost open cell if there is one (nested tables flatten into their cell), else to the document.
    /// </summary>
    private sealed class SectionWalker(DocumentBuilder builder, Dictionary<string, int> outline)
    {
        /// <summary>Longest text of an outline paragraph still taken as a heading; longer ones are numbered body text.</summary>
        private const int MaxHeadingChars = 80;
        private const int MaxDepth = 256;

        private readonly List<Frame> _frames = [];
        private int _skipDepth = -1;

        public void Walk(XmlReader reader, CancellationToken cancellationToken)
        {
            while (reader.Read())
            {
                if (_skipDepth >= 0)
                {
                    if (reader.Depth == _skipDepth && reader.NodeType == XmlNodeType.EndElement)
                    {
                        _skipDepth = -1;
                    }

                    continue;
                }

                switch (reader.NodeType)
                {
                    case XmlNodeType.Element:
                        if (reader.Depth > MaxDepth)
                        {
                            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The section nests elements more than 256 deep.");
                        }

                        var empty = reader.IsEmptyElement;
                        Start(reader);
                        if (empty)
                        {
                            End(reader.LocalName, reader.NamespaceURI);
                        }

                        break;
                    case XmlNodeType.EndElement:
                        End(reader.LocalName, reader.NamespaceURI);
                        break;
                    case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace:
                        if (_frames.Count > 0 && _frames[^1] is TextFrame run)
                        {
                            run.Paragraph.Text.Append(reader.Value);
                        }

                        break;
                }

                if (_frames.Count == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }

        private void Start(XmlReader reader)
        {
            if (reader.NamespaceURI != ParagraphNamespace)
            {
                // Other namespaces (hp10, layout caches) may wrap paragraph content in switch/case: keep walking.
                return;
            }

            switch (reader.LocalName)
            {
                case "p":
                    _frames.Add(new ParagraphFrame(reader.GetAttribute("styleIDRef")));
                    break;
                case "t" or "mainText" or "subText":
                    // hp:t is a run's text; a 덧말 (dutmal) carries its main text and its annotation, shown "본말 (덧말)".
                    if (Innermost<ParagraphFrame>() is { } paragraph)
                    {
                        if (reader.LocalName == "subText")
                        {
                            paragraph.Text.Append(" (");
                        }

                        _frames.Add(new TextFrame(paragraph, reader.LocalName == "subText" ? ")" : null));
                    }

                    break;
                case "textart":
                    // 글맵시 (text art): its text is an attribute of the drawing object.
                    if (Innermost<ParagraphFrame>() is { } holder && reader.GetAttribute("text") is { Length: > 0 } art)
                    {
                        // Line breaks are stored as the control-picture symbols ␍␊.
                        holder.Text.Append(' ').Append(art.Replace('\u240D', ' ').Replace('\u240A', ' ')).Append(' ');
                    }

                    break;
                case "tab" or "lineBreak" or "nbSpace" or "fwSpace" or "hyphen":
                    if (Innermost<ParagraphFrame>() is { } owner)
                    {
                        owner.Text.Append(reader.LocalName == "hyphen" ? "-" : " ");
                    }

                    break;
                case "tbl":
                    _frames.Add(new TableFrame());
                    break;
                case "tr":
                    if (_frames.Count > 0 && _frames[^1] is TableFrame table)
                    {
                        table.Rows.Add([]);
                    }

                    break;
                case "tc":
                    _frames.Add(new CellFrame(reader.GetAttribute("header") == "1"));
                    break;
                case "header" or "footer" or "secPr" or "linesegarray":
                    if (!reader.IsEmptyElement)
                    {
                        _skipDepth = reader.Depth;
                    }

                    break;
            }
        }

        private void End(string name, string ns)
        {
            if (ns != ParagraphNamespace)
            {
                return;
            }

            switch (name)
            {
                case "t" or "mainText" or "subText":
                    if (_frames.Count > 0 && _frames[^1] is TextFrame text)
                    {
                        text.Paragraph.Text.Append(text.Closing);
                        _frames.RemoveAt(_frames.Count - 1);
                    }

                    break;
                case "p":
                    if (Pop<ParagraphFrame>() is { } paragraph)
                    {
                        Emit(paragraph);
                    }

                    break;
                case "tc":
                    if (Pop<CellFrame>() is { } cell && Innermost<TableFrame>() is { } table && table.Rows.Count > 0)
                    {
                        table.Rows[^1].Add(string.Join(" ", cell.Parts));
                        if (cell.Header)
                        {
                            table.HeaderRows = Math.Max(table.HeaderRows, table.Rows.Count);
                        }
                    }

                    break;
                case "tbl":
                    if (Pop<TableFrame>() is { } done)
                    {
                        if (Innermost<CellFrame>() is { } outer)
                        {
                            outer.Parts.AddRange(done.Rows.SelectMany(r => r));
                        }
                        else
                        {
                            builder.Table(done.Rows.Select(r => new TableRow(r)).ToList(), Math.Max(done.HeaderRows, 1));
                        }
                    }

                    break;
            }
        }

        private void Emit(ParagraphFrame paragraph)
        {
            var text = paragraph.Text.ToString();
            if (Innermost<CellFrame>() is { } cell)
            {
                cell.Parts.Add(text);
            }
            else if (paragraph.Style is { } style && outline.TryGetValue(style, out var level) && DocumentBuilder.Clean(text).Length is > 0 and <= MaxHeadingChars)
            {
                builder.Heading(level, text);
            }
            else
            {
                builder.Paragraph(text);
            }
        }

        private T? Innermost<T>()
            where T : Frame
        {
            for (var i = _frames.Count - 1; i >= 0; i--)
            {
                if (_frames[i] is T match)
                {
                    return match;
                }
            }

            return null;
        }

        /// <summary>Closes the innermost frame of that kind (and anything left open inside it by malformed content).</summary>
        private T? Pop<T>()
            where T : Frame
        {
            for (var i = _frames.Count - 1; i >= 0; i--)
            {
                if (_frames[i] is T match)
                {
                    _frames.RemoveRange(i, _frames.Count - i);
                    return match;
                }
            }

            return null;
        }

        private abstract class Frame;

        private sealed class ParagraphFrame(string? style) : Frame
        {
            public string? Style { get; } = style;

            public StringBuilder Text { get; } = new();
        }

        private sealed class TextFrame(ParagraphFrame paragraph, string? closing) : Frame
        {
            public ParagraphFrame Paragraph { get; } = paragraph;

            /// <summary>What ends the text when its element closes (the ")" after a 덧말).</summary>
            public string? Closing { get; } = closing;
        }

        private sealed class TableFrame : Frame
        {
            public List<List<string>> Rows { get; } = [];

            public int HeaderRows { get; set; }
        }

        private sealed class CellFrame(bool header) : Frame
        {
            public bool Header { get; } = header;

            public List<string> Parts { get; } = [];
        }
    }
}
