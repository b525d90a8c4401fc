using System.Buffers.Binary;
using System.IO.Compression;
using System.Security;
using System.Text;

namespace RagPlatform.DocumentSamples;

/// <summary>
/// Writes <see cref="SampleDocument"/>s as Hancom documents: HWPX (OWPML: a ZIP whose first entry is the stored
/// <c>mimetype</c>, <c>Contents/content.hpf</c>, <c>header.xml</c> with the "Outline N" styles, <c>section0.xml</c>) and
/// HWP 5 (an OLE compound file with <c>FileHeader</c>, <c>DocInfo</c> style records, <c>BodyText/Section0</c> paragraph
/// and table records, raw-deflate compressed, and the summary information), from the published formats.
/// </summary>
public static class HancomSamples
{
    private const string Paragraph = "http://www.hancom.co.kr/hwpml/2011/paragraph";

    public static byte[] Hwpx(SampleDocument document)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, "mimetype", "application/hwp+zip", CompressionLevel.NoCompression);
            Add(zip, "version.xml", """<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" tagetApplication="WORDPROCESSOR" major="5" minor="1" micro="0" buildNumber="1" os="1" xmlVersion="1.4" application="RagPlatform samples" appVersion="1"/>""");
            Add(zip, "META-INF/container.xml", """<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><ocf:container xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container"><ocf:rootfiles><ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/></ocf:rootfiles></ocf:container>""");
            Add(zip, "Contents/content.hpf", $"""<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/" version="" unique-identifier="" id=""><opf:metadata><opf:title>{Escape(document.Title)}</opf:title><opf:language>ko</opf:language><opf:meta name="creator" content="text">{Escape(document.Author)}</opf:meta><opf:meta name="CreatedDate" content="text">2024-03-01T09:00:00Z</opf:meta></opf:metadata><opf:manifest><opf:item id="header" href="Contents/header.xml" media-type="application/xml"/><opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/></opf:manifest><opf:spine><opf:itemref idref="header" linear="yes"/><opf:itemref idref="section0" linear="yes"/></opf:spine></opf:package>""");
            Add(zip, "Contents/header.xml", """<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hh:head xmlns:hh="http://www.hancom.co.kr/hwpml/2011/head" version="1.4" secCnt="1"><hh:refList><hh:styles itemCnt="5"><hh:style id="0" type="PARA" name="바탕글" engName="Normal"/><hh:style id="1" type="PARA" name="본문" engName="Body"/><hh:style id="2" type="PARA" name="개요 1" engName="Outline 1"/><hh:style id="3" type="PARA" name="개요 2" engName="Outline 2"/><hh:style id="4" type="PARA" name="개요 3" engName="Outline 3"/></hh:styles></hh:refList></hh:head>""");
            var section = new StringBuilder();
            section.Append($"""<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="{Paragraph}">""");
            var id = 0;
            foreach (var block in document.Blocks)
            {
                switch (block)
                {
                    case SampleHeading heading:
                        section.Append(HwpxParagraph(id++, 1 + heading.Level, heading.Text));
                        break;
                    case SampleParagraph paragraph:
                        section.Append(HwpxParagraph(id++, 0, paragraph.Text));
                        break;
                    case SampleTable table:
                        section.Append($"""<hp:p id="{id++}" paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0"><hp:tbl id="{id++}" rowCnt="{table.Rows.Count}" colCnt="{table.Rows[0].Count}" repeatHeader="1">""");
                        for (var r = 0; r < table.Rows.Count; r++)
                        {
                            section.Append("<hp:tr>");
                            for (var c = 0; c < table.Rows[r].Count; c++)
                            {
                                section.Append($"""<hp:tc header="{(r == 0 ? 1 : 0)}"><hp:subList>{HwpxParagraph(0, 0, table.Rows[r][c])}</hp:subList><hp:cellAddr colAddr="{c}" rowAddr="{r}"/><hp:cellSpan colSpan="1" rowSpan="1"/></hp:tc>""");
                            }

                            section.Append("</hp:tr>");
                        }

                        section.Append("</hp:tbl></hp:run></hp:p>");
                        break;
                }
            }

            section.Append("</hs:sec>");
            Add(zip, "Contents/section0.xml", section.ToString());
        }

        return output.ToArray();
    }

    private static string HwpxParagraph(int id, int style, string text) =>
        $"""<hp:p id="{id}" paraPrIDRef="0" styleIDRef="{style}"><hp:run charPrIDRef="0"><hp:t>{Escape(text)}</hp:t></hp:run><hp:linesegarray><hp:lineseg textpos="0" vertpos="0" vertsize="1000" textheight="1000" baseline="850" spacing="600" horzpos="0" horzsize="42520" flags="393216"/></hp:linesegarray></hp:p>""";

    private static string Escape(string text) => SecurityElement.Escape(text);

    private static void Add(ZipArchive zip, string name, string content, CompressionLevel level = CompressionLevel.Optimal)
    {
        var entry = zip.CreateEntry(name, level);
        using var stream = entry.Open();
        stream.Write(Encoding.UTF8.GetBytes(content));
    }

    /// <summary>HWP 5 options for hostile variants: a distribution-protected header, or a record that claims more bytes than remain.</summary>
    public sealed record HwpOptions(bool Compressed = true, bool Distribution = false, bool BreakRecord = false);

    public static byte[] Hwp(SampleDocument document, HwpOptions? options = null)
    {
        options ??= new HwpOptions();
        var header = new byte[256];
        "HWP Document File"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(32), 0x05000300);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(36), (options.Compressed ? 1u : 0u) | (options.Distribution ? 4u : 0u));

        var docInfo = new MemoryStream();
        Record(docInfo, 16, 0, new byte[26]); // document properties
        foreach (var (local, english) in new[] { ("바탕글", "Normal"), ("본문", "Body"), ("개요 1", "Outline 1"), ("개요 2", "Outline 2"), ("개요 3", "Outline 3") })
        {
            var style = new MemoryStream();
            WriteString(style, local);
            WriteString(style, english);
            style.Write(new byte[8]);
            Record(docInfo, 26, 0, style.ToArray());
        }

        var body = new MemoryStream();
        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case SampleHeading heading:
                    HwpParagraph(body, 0, (byte)(1 + heading.Level), heading.Text);
                    break;
                case SampleParagraph paragraph:
                    HwpParagraph(body, 0, 0, paragraph.Text);
                    break;
                case SampleTable table:
                    HwpTable(body, table);
                    break;
            }
        }

        if (options.BreakRecord)
        {
            // A paragraph text record whose header claims 4,000 bytes with only a few behind it.
            BinaryPrimitives.WriteUInt32LittleEndian(Span(body, 4), 67u | (1u << 10) | (4000u << 20));
            body.Write("깨진"u8);
        }

        var summary = SummaryInformation(document.Title, document.Author);
        return CompoundFileWriter.Write([
            ("FileHeader", header),
            ("DocInfo", options.Compressed ? Deflate(docInfo.ToArray()) : docInfo.ToArray()),
            ("BodyText/Section0", options.Compressed ? Deflate(body.ToArray()) : body.ToArray()),
            ("\u0005HwpSummaryInformation", summary),
        ]);
    }

    private static Span<byte> Span(MemoryStream stream, int length)
    {
        var at = (int)stream.Length;
        stream.Write(new byte[length]);
        return stream.GetBuffer().AsSpan(at, length);
    }

    private static void HwpParagraph(MemoryStream body, int level, byte style, string text)
    {
        var units = text.Length + 1;
        var head = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)units);
        head[10] = style;
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(12), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(16), 1);
        Record(body, 66, level, head);
        Record(body, 67, level + 1, [.. Encoding.Unicode.GetBytes(text), 13, 0]);
        Record(body, 68, level + 1, new byte[8]);
    }

    private static void HwpTable(MemoryStream body, SampleTable table)
    {
        // The anchoring paragraph: an extended control character (11) standing for the table, then the paragraph end.
        var anchor = new byte[18];
        BinaryPrimitives.WriteUInt16LittleEndian(anchor, 11);
        BinaryPrimitives.WriteUInt32LittleEndian(anchor.AsSpan(2), Table);
        BinaryPrimitives.WriteUInt16LittleEndian(anchor.AsSpan(14), 11);
        BinaryPrimitives.WriteUInt16LittleEndian(anchor.AsSpan(16), 13);
        var head = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(head, 9);
        Record(body, 66, 0, head);
        Record(body, 67, 1, anchor);
        var control = new byte[46];
        BinaryPrimitives.WriteUInt32LittleEndian(control, Table);
        Record(body, 71, 1, control);

        var rows = table.Rows.Count;
        var record = new byte[18 + (2 * rows) + 2];
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(4), (ushort)rows);
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(6), (ushort)table.Rows[0].Count);
        for (var r = 0; r < rows; r++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(18 + (2 * r)), (ushort)table.Rows[r].Count);
        }

        Record(body, 77, 2, record);
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < table.Rows[r].Count; c++)
            {
                var list = new byte[34];
                BinaryPrimitives.WriteInt16LittleEndian(list, 1);
                BinaryPrimitives.WriteUInt16LittleEndian(list.AsSpan(8), (ushort)c);
                BinaryPrimitives.WriteUInt16LittleEndian(list.AsSpan(10), (ushort)r);
                BinaryPrimitives.WriteUInt16LittleEndian(list.AsSpan(12), 1);
                BinaryPrimitives.WriteUInt16LittleEndian(list.AsSpan(14), 1);
                Record(body, 72, 2, list);
                HwpParagraph(body, 2, 0, table.Rows[r][c]);
            }
        }
    }

    private const uint Table = ('t' << 24) | ('b' << 16) | ('l' << 8) | ' ';

    private static void Record(MemoryStream stream, int tag, int level, byte[] data)
    {
        var size = data.Length;
        var header = (uint)tag | ((uint)level << 10) | ((uint)Math.Min(size, 0xFFF) << 20);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, header);
        stream.Write(bytes);
        if (size >= 0xFFF)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)size);
            stream.Write(bytes);
        }

        stream.Write(data);
    }

    private static void WriteString(MemoryStream stream, string text)
    {
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)text.Length);
        stream.Write(length);
        stream.Write(Encoding.Unicode.GetBytes(text));
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>An OLE property set ([MS-OLEPS]) with the title (2) and author (4) as VT_LPWSTR.</summary>
    private static byte[] SummaryInformation(string title, string author)
    {
        var values = new (uint Id, byte[] Value)[] { (2, LpwStr(title)), (4, LpwStr(author)) };
        var section = new MemoryStream();
        var offset = 8 + (8 * values.Length);
        var table = new byte[8 + (8 * values.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(4), (uint)values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(8 + (8 * i)), values[i].Id);
            BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(12 + (8 * i)), (uint)offset);
            offset += values[i].Value.Length;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(table, (uint)offset);
        section.Write(table);
        foreach (var (_, value) in values)
        {
            section.Write(value);
        }

        var stream = new byte[48];
        BinaryPrimitives.WriteUInt16LittleEndian(stream, 0xFFFE);
        BinaryPrimitives.WriteUInt32LittleEndian(stream.AsSpan(24), 1);
        new Guid("F29F85E0-4FF9-1068-AB91-08002B27B3D9").TryWriteBytes(stream.AsSpan(28));
        BinaryPrimitives.WriteUInt32LittleEndian(stream.AsSpan(44), 48);
        return [.. stream, .. section.ToArray()];
    }

    private static byte[] LpwStr(string text)
    {
        var chars = Encoding.Unicode.GetBytes(text + "\0");
        var padded = (chars.Length + 3) / 4 * 4;
        var value = new byte[8 + padded];
        BinaryPrimitives.WriteUInt16LittleEndian(value, 0x1F);
        BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(4), (uint)(text.Length + 1));
        chars.CopyTo(value, 8);
        return value;
    }
}
