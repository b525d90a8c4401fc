using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Hancom;

/// <summary>
/// HWP 5.x, written from Hancom's published format ("한글 문서 파일 형식 5.0"): an OLE compound file
/// (<see cref="CompoundFile"/>) whose <c>FileHeader</c> says whether the streams are compressed (raw deflate),
/// password-protected or distribution-protected (배포용: the body is encrypted in <c>ViewText</c> for viewing only,
/// refused with that reason). <c>BodyText/SectionN</c> hold tagged records in a tree by level: paragraph headers,
/// their text (UTF-16 with inline and extended control characters), and control headers, of which tables
/// (<c>tbl </c>) carry a table record (rows, cells per row) and one list header per cell followed by the cell's
/// paragraphs. Text boxes and footnotes are read in place; page headers and footers are left out. Paragraphs in the
/// "Outline N" (개요 N) styles of <c>DocInfo</c> are headings; title and author come from the summary information.
/// </summary>
internal sealed partial class HwpParser : IDocumentParser
{
    private const int TagBegin = 0x10;
    private const int TagStyle = TagBegin + 10;
    private const int TagParaHeader = TagBegin + 50;
    private const int TagParaText = TagBegin + 51;
    private const int TagCtrlHeader = TagBegin + 55;
    private const int TagListHeader = TagBegin + 56;
    private const int TagTable = TagBegin + 61;

    private const uint CtrlTable = ('t' << 24) | ('b' << 16) | ('l' << 8) | ' ';
    private const uint CtrlHeader = ('h' << 24) | ('e' << 16) | ('a' << 8) | 'd';
    private const uint CtrlFooter = ('f' << 24) | ('o' << 16) | ('o' << 8) | 't';

    /// <summary>Deeper nesting than this (a table in a cell in a table …) is read as plain text.</summary>
    private const int MaxNesting = 32;

    /// <summary>Longest text of an outline paragraph still taken as a heading; longer ones are numbered body text.</summary>
    private const int MaxHeadingChars = 80;

    public Task<ParsedDocument> ParseAsync(DocumentSource source, DocumentParseLimits limits, CancellationToken cancellationToken)
    {
        var file = CompoundFile.Open(source.Content);
        var header = file.Read("FileHeader", 4096)
            ?? throw new DocumentParseException(DocumentParseFailure.Corrupt, "This OLE compound file has no FileHeader stream: it is not an HWP 5 document.");
        if (header.Length < 40 || !header.AsSpan().StartsWith("HWP Document File"u8))
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The FileHeader does not carry the HWP signature: not an HWP 5 document.");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(32));
        var properties = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(36));
        if (version >> 24 != 5)
        {
            throw new DocumentParseException(DocumentParseFailure.Unsupported, string.Create(CultureInfo.InvariantCulture,
                $"HWP version {version >> 24}.{(version >> 16) & 0xFF} is not supported (HWP 5.x only; save older documents again in Hancom Office)."));
        }

        if ((properties & 0x2) != 0)
        {
            throw new DocumentParseException(DocumentParseFailure.Protected, "The HWP document is password-protected; save an unprotected copy to index it.");
        }

        if ((properties & 0x4) != 0 || file.Exists("ViewText"))
        {
            throw new DocumentParseException(DocumentParseFailure.Protected,
                "The HWP document is distribution-protected (배포용 문서): its text is encrypted for viewing only and cannot be indexed. " +
                "Index the original, or a copy saved without distribution protection.");
        }

        if ((properties & 0x10) != 0)
        {
            throw new DocumentParseException(DocumentParseFailure.Protected, "The HWP document is DRM-protected; its text cannot be read.");
        }

        var compressed = (properties & 0x1) != 0;
        var budget = new InflateBudget(limits.MaxDecompressedBytes);
        var builder = new DocumentBuilder(limits);
        ReadSummary(file, builder);
        var styles = ReadStyles(file, compressed, budget, limits);

        var sections = file.Children("BodyText")
            .Select(name => (Name: name, Match: SectionName().Match(name)))
            .Where(s => s.Match.Success)
            .OrderBy(s => int.Parse(s.Match.Groups[1].ValueSpan, CultureInfo.InvariantCulture))
            .ToList();
        if (sections.Count == 0)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The HWP document has no BodyText sections.");
        }

        foreach (var (name, _) in sections)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = "BodyText/" + name;
            var records = Records(Stream(file, path, compressed, budget, limits), path);
            new SectionReader(records, builder, styles).Read(cancellationToken);
        }

        return Task.FromResult(builder.Build());
    }

    private static byte[] Stream(CompoundFile file, string path, bool compressed, InflateBudget budget, DocumentParseLimits limits)
    {
        var raw = file.Read(path, limits.MaxDecompressedBytes) ?? [];
        if (!compressed)
        {
            budget.Spend(raw.Length);
            return raw;
        }

        try
        {
            using var inflate = new LimitedReadStream(new DeflateStream(new MemoryStream(raw, writable: false), CompressionMode.Decompress), budget);
            using var output = new MemoryStream(raw.Length * 4);
            inflate.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, $"The stream {path} cannot be inflated: {ex.Message}", ex);
        }
    }

    /// <summary>A record: tag, level in the tree, and its data.</summary>
    internal readonly record struct HwpRecord(int Tag, int Level, ReadOnlyMemory<byte> Data);

    /// <summary>Splits a stream into records; a header that claims more bytes than remain is damage, reported with its offset.</summary>
    internal static List<HwpRecord> Records(byte[] stream, string path)
    {
        var records = new List<HwpRecord>();
        var offset = 0;
        while (offset + 4 <= stream.Length)
        {
            var header = BinaryPrimitives.ReadUInt32LittleEndian(stream.AsSpan(offset));
            var at = offset;
            offset += 4;
            var tag = (int)(header & 0x3FF);
            var level = (int)((header >> 10) & 0x3FF);
            long size = header >> 20;
            if (size == 0xFFF)
            {
                if (offset + 4 > stream.Length)
                {
                    throw BrokenRecord(path, at, "its extended size is cut off");
                }

                size = BinaryPrimitives.ReadUInt32LittleEndian(stream.AsSpan(offset));
                offset += 4;
            }

            if (size > stream.Length - offset)
            {
                throw BrokenRecord(path, at, string.Create(CultureInfo.InvariantCulture, $"it claims {size:N0} bytes but {stream.Length - offset:N0} remain"));
            }

            records.Add(new HwpRecord(tag, level, stream.AsMemory(offset, (int)size)));
            offset += (int)size;
        }

        return records;
    }

    private static DocumentParseException BrokenRecord(string path, int offset, string why) =>
        new(DocumentParseFailure.Corrupt, string.Create(CultureInfo.InvariantCulture, $"{path} has a broken record at byte {offset:N0}: {why}."));

    /// <summary>Style index → outline level, for the styles whose English name is "Outline N" (개요 N).</summary>
    private static Dictionary<int, int> ReadStyles(CompoundFile file, bool compressed, InflateBudget budget, DocumentParseLimits limits)
    {
        var levels = new Dictionary<int, int>();
        List<HwpRecord> records;
        try
        {
            records = Records(Stream(file, "DocInfo", compressed, budget, limits), "DocInfo");
        }
        catch (DocumentParseException ex) when (ex.Failure == DocumentParseFailure.Corrupt)
        {
            // Styles only make headings; the body is still worth reading.
            return levels;
        }

        var index = 0;
        foreach (var record in records.Where(r => r.Tag == TagStyle))
        {
            var data = record.Data.Span;
            if (data.Length >= 2)
            {
                var localLength = BinaryPrimitives.ReadUInt16LittleEndian(data) * 2;
                if (2 + localLength + 2 <= data.Length)
                {
                    var local = Encoding.Unicode.GetString(data.Slice(2, localLength));
                    var englishLength = BinaryPrimitives.ReadUInt16LittleEndian(data[(2 + localLength)..]) * 2;
                    var english = 4 + localLength + englishLength <= data.Length ? Encoding.Unicode.GetString(data.Slice(4 + localLength, englishLength)) : string.Empty;
                    var match = OutlineName().Match(english);
                    if (!match.Success)
                    {
                        match = OutlineName().Match(local);
                    }

                    if (match.Success)
                    {
                        levels[index] = int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
                    }
                }
            }

            index++;
        }

        return levels;
    }

    /// <summary>Title, author, subject, keywords and dates from the <c>\x05HwpSummaryInformation</c> property set, when readable.</summary>
    private static void ReadSummary(CompoundFile file, DocumentBuilder builder)
    {
        try
        {
            if (file.Read("\u0005HwpSummaryInformation", 1024 * 1024) is not { } stream || PropertySet.Read(stream) is not { } properties)
            {
                return;
            }

            builder.Title = properties.GetValueOrDefault<uint, object>(2) as string;
            builder.Properties = new DocumentProperties(
                Author: Blank(properties.GetValueOrDefault<uint, object>(4) as string),
                Created: properties.GetValueOrDefault<uint, object>(12) as DateTimeOffset?,
                Modified: properties.GetValueOrDefault<uint, object>(13) as DateTimeOffset?,
                Subject: Blank(properties.GetValueOrDefault<uint, object>(3) as string),
                Keywords: Blank(properties.GetValueOrDefault<uint, object>(5) as string));
        }
        catch (DocumentParseException)
        {
            // The summary is optional; a damaged one costs only the title and author.
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex(@"^Section(\d{1,4})$", RegexOptions.CultureInvariant)]
    private static partial Regex SectionName();

    [GeneratedRegex(@"^(?:Outline|개요)\s*([1-9])$", RegexOptions.CultureInvariant)]
    private static partial Regex OutlineName();

    /// <summary>
    /// Walks one section's record tree. A paragraph header at level L owns the records after it deeper than L; a
    /// control header inside it owns the records deeper than its own level. Loops only move forward, so any tree,
    /// however damaged, is read in one pass.
    /// </summary>
    private sealed class SectionReader(List<HwpRecord> records, DocumentBuilder builder, Dictionary<int, int> styles)
    {
        public void Read(CancellationToken cancellationToken)
        {
            var i = 0;
            while (i < records.Count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (records[i].Tag == TagParaHeader)
                {
                    i = Paragraph(i, null, 0);
                }
                else
                {
                    i++;
                }
            }
        }

        /// <summary>Reads the paragraph at <paramref name="index"/> into <paramref name="cell"/> (or the document); returns the index after it.</summary>
        private int Paragraph(int index, List<string>? cell, int depth)
        {
            var head = records[index];
            var end = SubtreeEnd(index);
            var text = new StringBuilder();
            var style = head.Data.Length > 10 ? head.Data.Span[10] : -1;
            // Children: the text, control headers (tables, text boxes, footnotes), and paragraph lists hung directly
            // under the paragraph (a list header followed by paragraphs one level down: memos, field contents).
            var children = new List<int>();
            for (var i = index + 1; i < end; i++)
            {
                var record = records[i];
                if (record.Level != head.Level + 1)
                {
                    continue;
                }

                if (record.Tag == TagParaText)
                {
                    AppendText(record.Data.Span, text);
                }
                else if (record.Tag is TagCtrlHeader or TagParaHeader)
                {
                    children.Add(i);
                }
            }

            var content = text.ToString();
            if (cell is not null)
            {
                cell.Add(content);
            }
            else if (styles.TryGetValue(style, out var level) && DocumentBuilder.Clean(content).Length is > 0 and <= MaxHeadingChars)
            {
                builder.Heading(level, content);
            }
            else
            {
                builder.Paragraph(content);
            }

            foreach (var child in children)
            {
                if (records[child].Tag == TagCtrlHeader)
                {
                    Control(child, cell, depth);
                }
                else if (depth < MaxNesting)
                {
                    Paragraph(child, cell, depth + 1);
                }
            }

            return end;
        }

        private void Control(int index, List<string>? cell, int depth)
        {
            var data = records[index].Data.Span;
            var id = data.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(data) : 0;
            var end = SubtreeEnd(index);
            if (id is CtrlHeader or CtrlFooter)
            {
                return;
            }

            if (id == CtrlTable && depth < MaxNesting)
            {
                Table(index, end, cell, depth);
                return;
            }

            // Text boxes, footnotes, captions: their paragraphs, in place.
            for (var i = index + 1; i < end;)
            {
                i = records[i].Tag == TagParaHeader ? Paragraph(i, cell, depth + 1) : i + 1;
            }
        }

        private void Table(int index, int end, List<string>? cell, int depth)
        {
            var level = records[index].Level + 1;
            int[] rowSizes = [];
            var cells = new List<List<string>>();
            for (var i = index + 1; i < end;)
            {
                var record = records[i];
                if (record.Level == level && record.Tag == TagTable)
                {
                    rowSizes = RowSizes(record.Data.Span);
                    i++;
                }
                else if (record.Level == level && record.Tag == TagListHeader)
                {
                    var parts = new List<string>();
                    cells.Add(parts);
                    i++;
                    while (i < end && !(records[i].Level == level && records[i].Tag == TagListHeader))
                    {
                        i = records[i].Tag == TagParaHeader && records[i].Level == level ? Paragraph(i, parts, depth + 1) : i + 1;
                    }
                }
                else
                {
                    i++;
                }
            }

            var texts = cells.Select(c => string.Join(" ", c.Select(DocumentBuilder.Clean).Where(t => t.Length > 0))).ToList();
            if (cell is not null)
            {
                // A table inside a cell is flattened into that cell.
                cell.AddRange(texts);
                return;
            }

            // Cells come row by row; the table record says how many each row has (merged cells make rows shorter).
            var rows = new List<TableRow>();
            var next = 0;
            foreach (var count in rowSizes)
            {
                if (next >= texts.Count)
                {
                    break;
                }

                var take = Math.Clamp(count, 0, texts.Count - next);
                rows.Add(new TableRow(texts.GetRange(next, take)));
                next += take;
            }

            if (next < texts.Count)
            {
                rows.Add(new TableRow(texts.GetRange(next, texts.Count - next)));
            }

            builder.Table(rows, headerRows: 1);
        }

        /// <summary>Cells per row from a table record: properties (4), rows (2), columns (2), spacing (2), margins (8), then a UINT16 per row.</summary>
        private static int[] RowSizes(ReadOnlySpan<byte> data)
        {
            if (data.Length < 18)
            {
                return [];
            }

            var rows = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
            var sizes = new int[Math.Min(rows, (data.Length - 18) / 2)];
            for (var r = 0; r < sizes.Length; r++)
            {
                sizes[r] = BinaryPrimitives.ReadUInt16LittleEndian(data[(18 + (2 * r))..]);
            }

            return sizes;
        }

        private int SubtreeEnd(int index)
        {
            var level = records[index].Level;
            var end = index + 1;
            while (end < records.Count && records[end].Level > level)
            {
                end++;
            }

            return end;
        }

        /// <summary>
        /// PARA_TEXT: UTF-16LE. Codes below 32 are controls: "char" controls take one code unit (line break 10,
        /// paragraph end 13, hyphen 24, fixed spaces 30 and 31), "inline" and "extended" controls eight (tab 9 among
        /// them, tables and fields anchored by the others), whose payload is not text.
        /// </summary>
        internal static void AppendText(ReadOnlySpan<byte> data, StringBuilder text)
        {
            var units = data.Length / 2;
            for (var i = 0; i < units; i++)
            {
                var c = (char)BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]);
                if (c >= 32)
                {
                    text.Append(c);
                    continue;
                }

                switch (c)
                {
                    case (char)10 or (char)30 or (char)31:
                        text.Append(' ');
                        break;
                    case (char)24:
                        text.Append('-');
                        break;
                    case (char)0 or (char)13 or (char)25 or (char)26 or (char)27 or (char)28 or (char)29:
                        break;
                    case (char)9:
                        text.Append(' ');
                        i += 7;
                        break;
                    default:
                        i += 7;
                        break;
                }
            }
        }
    }
}
