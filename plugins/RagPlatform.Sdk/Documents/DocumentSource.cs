namespace RagPlatform.Sdk.Documents;

/// <summary>
/// A file handed to a parser: its name as uploaded (for messages; never trusted for its type), the content type
/// the host found by looking at the bytes (<see cref="DocumentContentTypes"/>), and the bytes themselves.
/// </summary>
public sealed record DocumentSource(string FileName, string ContentType, ReadOnlyMemory<byte> Content)
{
    /// <summary>A read-only stream over <see cref="Content"/> (no copy when the bytes are an array).</summary>
    public Stream OpenRead() => OpenRead(Content);

    /// <summary>A read-only stream over <paramref name="content"/> (no copy when the bytes are an array).</summary>
    public static Stream OpenRead(ReadOnlyMemory<byte> content) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
}

/// <summary>
/// The bounds every parser keeps to, so that a hostile file (a zip bomb, a PDF with a million pages, an HWP whose
/// records claim gigabytes) fails alone with a clear reason instead of exhausting the host. The host sets them from
/// <c>RagPlatform:Ingestion:Parsing</c>.
/// </summary>
public sealed class DocumentParseLimits
{
    /// <summary>Bytes a parser may inflate from one file (all archive entries or compressed streams together).</summary>
    public long MaxDecompressedBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Entries an archive (DOCX, PPTX, XLSX, HWPX) may hold.</summary>
    public int MaxArchiveEntries { get; init; } = 10_000;

    /// <summary>Inflated size over compressed size of an archive entry above which it counts as a bomb.</summary>
    public int MaxCompressionRatio { get; init; } = 200;

    /// <summary>Pages (PDF pages, slides, sheets) a document may have.</summary>
    public int MaxPages { get; init; } = 5_000;

    /// <summary>Characters of text a document may yield.</summary>
    public long MaxTextChars { get; init; } = 5_000_000;

    public static readonly DocumentParseLimits Default = new();
}
