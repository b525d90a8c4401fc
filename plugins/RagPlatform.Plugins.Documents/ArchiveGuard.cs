using System.Globalization;
using System.IO.Compression;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents;

/// <summary>
/// Zip-bomb checks of a package before any part of it is inflated: the entry count, the declared inflated sizes
/// (in all, and per entry against its compressed size). Declared sizes can lie, so what is actually inflated is
/// bounded again while it is read (<see cref="LimitedReadStream"/>, or the Open XML SDK's per-part character limit).
/// </summary>
internal static class ArchiveGuard
{
    public static void Check(ZipArchive archive, DocumentParseLimits limits)
    {
        var entries = archive.Entries;
        if (entries.Count > limits.MaxArchiveEntries)
        {
            throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The package holds {entries.Count:N0} entries; the limit is {limits.MaxArchiveEntries:N0}."));
        }

        long total = 0;
        foreach (var entry in entries)
        {
            total += entry.Length;
            // Tiny entries compress absurdly well legitimately (a run of spaces); only large ones are judged by ratio.
            if (entry.Length > 1024 * 1024 && entry.Length > (long)limits.MaxCompressionRatio * Math.Max(entry.CompressedLength, 1))
            {
                throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"The entry '{entry.FullName}' inflates {entry.CompressedLength:N0} bytes to {entry.Length:N0} (more than {limits.MaxCompressionRatio}:1): a ZIP bomb."));
            }

            if (total > limits.MaxDecompressedBytes)
            {
                throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"The package inflates to more than {limits.MaxDecompressedBytes:N0} bytes (RagPlatform:Ingestion:Parsing:MaxDecompressedBytes)."));
            }
        }
    }

    public static ZipArchive Open(DocumentSource source, DocumentParseLimits limits)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(source.OpenRead(), ZipArchiveMode.Read);
        }
        catch (InvalidDataException ex)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The package is not a readable ZIP archive: " + ex.Message, ex);
        }

        try
        {
            Check(archive, limits);
            return archive;
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }
}

/// <summary>A read stream that fails with <see cref="DocumentParseFailure.TooLarge"/> once more than its budget is read.</summary>
internal sealed class LimitedReadStream(Stream inner, InflateBudget budget) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        budget.Spend(read);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Bytes one file may still inflate, shared by all the streams read from it.</summary>
internal sealed class InflateBudget(long limit)
{
    private long _spent;

    public void Spend(long bytes)
    {
        _spent += bytes;
        if (_spent > limit)
        {
            throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The file inflates to more than {limit:N0} bytes (RagPlatform:Ingestion:Parsing:MaxDecompressedBytes): a compression bomb, or split it."));
        }
    }
}
