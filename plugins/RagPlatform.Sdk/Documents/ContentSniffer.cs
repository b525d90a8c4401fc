using System.IO.Compression;
using System.Text;

namespace RagPlatform.Sdk.Documents;

/// <summary>
/// Decides what a file is from its bytes: PDF by its header, ZIP packages by what they hold (Office Open XML's
/// content types, HWPX's <c>mimetype</c> entry), HWP 5 by its OLE signature and file header, text by the absence
/// of binary bytes. The file's name only chooses among text formats (Markdown, HTML, plain), and a name that
/// promises another format than the bytes hold is refused: "report.pdf" holding a ZIP is a mistake or a trick.
/// </summary>
public static class ContentSniffer
{
    private static readonly byte[] PdfMagic = "%PDF-"u8.ToArray();
    private static readonly byte[] ZipMagic = [0x50, 0x4B, 0x03, 0x04];
    private static readonly byte[] EmptyZipMagic = [0x50, 0x4B, 0x05, 0x06];
    private static readonly byte[] CompoundFileMagic = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    private static readonly byte[] HwpSignature = "HWP Document File"u8.ToArray();

    private static readonly Dictionary<string, string> ExtensionTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".pdf"] = DocumentContentTypes.Pdf,
        [".docx"] = DocumentContentTypes.Docx,
        [".pptx"] = DocumentContentTypes.Pptx,
        [".xlsx"] = DocumentContentTypes.Xlsx,
        [".hwpx"] = DocumentContentTypes.Hwpx,
        [".hwp"] = DocumentContentTypes.Hwp,
        [".html"] = DocumentContentTypes.Html,
        [".htm"] = DocumentContentTypes.Html,
        [".xhtml"] = DocumentContentTypes.Html,
        [".md"] = DocumentContentTypes.Markdown,
        [".markdown"] = DocumentContentTypes.Markdown,
        [".txt"] = DocumentContentTypes.PlainText,
        [".text"] = DocumentContentTypes.PlainText,
        [".doc"] = DocumentContentTypes.CompoundFile,
        [".xls"] = DocumentContentTypes.CompoundFile,
        [".ppt"] = DocumentContentTypes.CompoundFile,
        [".zip"] = DocumentContentTypes.Zip,
    };

    /// <summary>The content type a file name's extension promises, or null for an extension we do not know.</summary>
    public static string? TypeOfExtension(string fileName) =>
        ExtensionTypes.TryGetValue(Path.GetExtension(fileName), out var type) ? type : null;

    /// <summary>Extensions of the formats the built-in parsers read (for folder walks and help texts).</summary>
    public static IReadOnlyCollection<string> KnownExtensions => ExtensionTypes.Keys;

    /// <summary>
    /// The content type of <paramref name="content"/>. Throws <see cref="DocumentParseException"/> for an empty file
    /// (<see cref="DocumentParseFailure.Empty"/>), a name that contradicts the bytes (<see cref="DocumentParseFailure.WrongType"/>)
    /// or a ZIP whose directory cannot be read (<see cref="DocumentParseFailure.Corrupt"/>).
    /// </summary>
    public static string Sniff(string fileName, ReadOnlyMemory<byte> content, DocumentParseLimits? limits = null)
    {
        if (content.IsEmpty)
        {
            throw new DocumentParseException(DocumentParseFailure.Empty, "The file is empty (0 bytes).");
        }

        var sniffed = SniffBytes(content, limits ?? DocumentParseLimits.Default);
        var promised = TypeOfExtension(fileName);
        if (IsText(sniffed))
        {
            if (promised is not null && !IsText(promised))
            {
                throw WrongType(fileName, promised, sniffed);
            }

            // Text formats cannot be told apart reliably by content: the name decides, markup sniffing helps an unnamed file.
            return promised ?? sniffed;
        }

        if (promised is not null && promised != sniffed)
        {
            throw WrongType(fileName, promised, sniffed);
        }

        return sniffed;
    }

    private static DocumentParseException WrongType(string fileName, string promised, string sniffed) =>
        new(DocumentParseFailure.WrongType,
            $"The name says {Path.GetExtension(fileName).ToLowerInvariant()} ({DocumentContentTypes.Describe(promised)}) but the content is " +
            $"{DocumentContentTypes.Describe(sniffed)}. Rename the file to match what it holds.");

    private static bool IsText(string contentType) =>
        contentType is DocumentContentTypes.PlainText or DocumentContentTypes.Markdown or DocumentContentTypes.Html;

    private static string SniffBytes(ReadOnlyMemory<byte> memory, DocumentParseLimits limits)
    {
        var content = memory.Span;
        // PDF readers accept the header anywhere in the first kilobyte (some files carry a preamble).
        if (content[..Math.Min(content.Length, 1024)].IndexOf(PdfMagic) >= 0)
        {
            return DocumentContentTypes.Pdf;
        }

        if (content.StartsWith(ZipMagic) || content.StartsWith(EmptyZipMagic))
        {
            return SniffZip(memory, limits);
        }

        if (content.StartsWith(CompoundFileMagic))
        {
            // The FileHeader stream is small, so it lives in the mini stream somewhere in the file: search for it.
            return content.IndexOf(HwpSignature) >= 0 ? DocumentContentTypes.Hwp : DocumentContentTypes.CompoundFile;
        }

        if (LooksLikeText(content))
        {
            return LooksLikeHtml(content) ? DocumentContentTypes.Html : DocumentContentTypes.PlainText;
        }

        return DocumentContentTypes.Unknown;
    }

    private static string SniffZip(ReadOnlyMemory<byte> content, DocumentParseLimits limits)
    {
        // The directory is read whole by ZipArchive: refuse a directory of millions of entries before building it.
        if (ZipDirectory.CountEntries(content.Span) is { } count && count > limits.MaxArchiveEntries)
        {
            throw new DocumentParseException(DocumentParseFailure.TooLarge,
                $"The archive holds {count:N0} entries; the limit is {limits.MaxArchiveEntries:N0} (a ZIP bomb, or not a document).");
        }

        try
        {
            using var archive = new ZipArchive(DocumentSource.OpenRead(content), ZipArchiveMode.Read);
            if (archive.GetEntry("mimetype") is { Length: < 256 } mimetype
                && ReadSmall(mimetype).Trim() is { Length: > 0 } declared
                && declared == DocumentContentTypes.Hwpx)
            {
                return DocumentContentTypes.Hwpx;
            }

            if (archive.GetEntry("[Content_Types].xml") is { Length: < 1024 * 1024 } types)
            {
                var text = ReadSmall(types);
                if (text.Contains("wordprocessingml.document.main+xml", StringComparison.Ordinal))
                {
                    return DocumentContentTypes.Docx;
                }

                if (text.Contains("presentationml.presentation.main+xml", StringComparison.Ordinal))
                {
                    return DocumentContentTypes.Pptx;
                }

                if (text.Contains("spreadsheetml.sheet.main+xml", StringComparison.Ordinal))
                {
                    return DocumentContentTypes.Xlsx;
                }
            }

            // An HWPX without its mimetype entry still has the OWPML layout.
            if (archive.GetEntry("Contents/content.hpf") is not null && archive.GetEntry("Contents/section0.xml") is not null)
            {
                return DocumentContentTypes.Hwpx;
            }

            return DocumentContentTypes.Zip;
        }
        catch (InvalidDataException ex)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, $"The file starts like a ZIP package but its directory cannot be read: {ex.Message}", ex);
        }
    }

    private static string ReadSmall(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        var buffer = new byte[entry.Length];
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>No NUL and few other control bytes in the first 8 KiB (UTF-8 and the legacy Korean code pages alike).</summary>
    private static bool LooksLikeText(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, 8192)];
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return true; // UTF-16 with a byte-order mark
        }

        var control = 0;
        foreach (var b in head)
        {
            if (b == 0)
            {
                return false;
            }

            if (b < 0x20 && b is not (0x09 or 0x0A or 0x0C or 0x0D or 0x1B))
            {
                control++;
            }
        }

        return control * 100 <= head.Length;
    }

    private static bool LooksLikeHtml(ReadOnlySpan<byte> content)
    {
        var head = Encoding.UTF8.GetString(content[..Math.Min(content.Length, 1024)]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return head.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase)
            || head.StartsWith("<html", StringComparison.OrdinalIgnoreCase)
            || (head.StartsWith("<?xml", StringComparison.OrdinalIgnoreCase) && head.Contains("<html", StringComparison.OrdinalIgnoreCase));
    }
}
