using System.Buffers.Binary;

namespace RagPlatform.Sdk.Documents;

/// <summary>
/// The entry count a ZIP file's end-of-central-directory record declares (PKWARE APPNOTE 4.3.16, and 4.3.14 for
/// ZIP64), read before <see cref="System.IO.Compression.ZipArchive"/> builds an object per entry.
/// </summary>
public static class ZipDirectory
{
    private const uint EndOfDirectorySignature = 0x06054b50;
    private const uint Zip64EndOfDirectorySignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;

    /// <summary>The declared number of entries, or null when no end record is found (ZipArchive then reports the damage).</summary>
    public static long? CountEntries(ReadOnlySpan<byte> zip)
    {
        // The record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
        var earliest = Math.Max(0, zip.Length - 22 - 65_535);
        for (var at = zip.Length - 22; at >= earliest; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip[at..]) != EndOfDirectorySignature)
            {
                continue;
            }

            long entries = BinaryPrimitives.ReadUInt16LittleEndian(zip[(at + 10)..]);
            if (entries == 0xFFFF && at >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(zip[(at - 20)..]) == Zip64LocatorSignature)
            {
                var offset = BinaryPrimitives.ReadInt64LittleEndian(zip[(at - 20 + 8)..]);
                if (offset >= 0 && offset + 56 <= zip.Length
                    && BinaryPrimitives.ReadUInt32LittleEndian(zip[(int)offset..]) == Zip64EndOfDirectorySignature)
                {
                    entries = BinaryPrimitives.ReadInt64LittleEndian(zip[((int)offset + 32)..]);
                }
            }

            return entries;
        }

        return null;
    }
}
