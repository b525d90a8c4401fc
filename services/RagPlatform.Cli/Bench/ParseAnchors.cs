using System.IO.Compression;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml.Packaging;
using UglyToad.PdfPig;

namespace RagPlatform.Cli.Bench;

/// <summary>
/// The anchors of <c>rag bench parse</c>: each format's library (or, for HWPX, the XML reader) pulling out plain text
/// with no structure at all: PdfPig's page text, the Open XML SDK's body text, every <c>hp:t</c> of the sections. The
/// parsers do that and more (reading order, lines, headings, tables), so the ratio is the price of the structure.
/// </summary>
internal static class ParseAnchors
{
    public static long Pdf(byte[] file)
    {
        using var document = PdfDocument.Open(file);
        long chars = 0;
        foreach (var page in document.GetPages())
        {
            chars += page.Text.Length;
        }

        return chars;
    }

    public static long Docx(byte[] file)
    {
        using var document = WordprocessingDocument.Open(new MemoryStream(file, writable: false), false);
        return document.MainDocumentPart?.Document?.Body?.InnerText.Length ?? 0;
    }

    public static long Hwpx(byte[] file)
    {
        using var archive = new ZipArchive(new MemoryStream(file, writable: false), ZipArchiveMode.Read);
        long chars = 0;
        foreach (var entry in archive.Entries.Where(e => e.FullName.StartsWith("Contents/section", StringComparison.Ordinal)))
        {
            using var reader = XmlReader.Create(entry.Open(), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit });
            var text = new StringBuilder();
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "t" && !reader.IsEmptyElement)
                {
                    text.Append(reader.ReadElementContentAsString());
                }
            }

            chars += text.Length;
        }

        return chars;
    }
}
