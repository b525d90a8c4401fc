using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// Layout shared by the snapshot and the log: a fixed header, then frames of
/// [int32 body length][uint32 CRC-32C of the body][body]. A frame that runs past the end of the file or
/// fails its checksum is where a crash tore the write.
/// </summary>
internal static class RecordFile
{
    public const int HeaderSize = 32;
    public const int FrameHeaderSize = 8;
    public const int FormatVersion = 1;

    /// <summary>Larger frames are refused on read: a corrupt length must not make us allocate gigabytes.</summary>
    public const int MaxFrameBytes = 1 << 30;

    public const byte OpUpsert = 1;
    public const byte OpDelete = 2;
    public const byte OpEnd = 3;

    public static ReadOnlySpan<byte> LogMagic => "RAGVLOG1"u8;

    public static ReadOnlySpan<byte> SnapshotMagic => "RAGVSNP1"u8;

    public static void WriteHeader(Span<byte> destination, ReadOnlySpan<byte> magic, int dimensions, long generation, long pointCount)
    {
        magic.CopyTo(destination);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], dimensions);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], pointCount);
    }

    /// <summary>Reads a header written by <see cref="WriteHeader"/>; throws when the file is some other thing.</summary>
    public static (long Generation, long PointCount) ReadHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> magic, int dimensions, string path)
    {
        if (!source[..8].SequenceEqual(magic))
        {
            throw new InvalidDataException($"'{path}' is not an embedded vector store file.");
        }

        var version = BinaryPrimitives.ReadInt32LittleEndian(source[8..]);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"'{path}' has format version {version}; this build reads {FormatVersion}.");
        }

        var fileDimensions = BinaryPrimitives.ReadInt32LittleEndian(source[12..]);
        if (fileDimensions != dimensions)
        {
            throw new InvalidDataException($"'{path}' holds {fileDimensions}-dimensional vectors; the collection has {dimensions}.");
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(source[16..]), BinaryPrimitives.ReadInt64LittleEndian(source[24..]));
    }

    /// <summary>Starts a frame in <paramref name="writer"/>; pass the returned offset to <see cref="EndFrame"/>.</summary>
    public static int BeginFrame(RecordWriter writer) => writer.Reserve(FrameHeaderSize);

    public static void EndFrame(RecordWriter writer, int frameOffset)
    {
        var bodyLength = writer.Length - frameOffset - FrameHeaderSize;
        var body = writer.WrittenSpan(frameOffset + FrameHeaderSize, bodyLength);
        var header = writer.WrittenSpan(frameOffset, FrameHeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(header, bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32C.Compute(body));
    }

    /// <summary>
    /// Reads the frame at <paramref name="offset"/> into <paramref name="buffer"/> (grown as needed).
    /// Returns the body length, or -1 when there is no whole, intact frame there.
    /// </summary>
    public static int TryReadFrame(SafeFileHandle file, long offset, long fileLength, ref byte[] buffer)
    {
        if (fileLength - offset < FrameHeaderSize)
        {
            return -1;
        }

        Span<byte> header = stackalloc byte[FrameHeaderSize];
        if (!ReadExactly(file, header, offset))
        {
            return -1;
        }

        var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(header);
        var expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (bodyLength < 0 || bodyLength > MaxFrameBytes || bodyLength > fileLength - offset - FrameHeaderSize)
        {
            return -1;
        }

        if (buffer.Length < bodyLength)
        {
            buffer = new byte[Math.Max(bodyLength, Math.Min(buffer.Length * 2L, MaxFrameBytes))];
        }

        var body = buffer.AsSpan(0, bodyLength);
        if (!ReadExactly(file, body, offset + FrameHeaderSize) || Crc32C.Compute(body) != expectedCrc)
        {
            return -1;
        }

        return bodyLength;
    }

    public static bool ReadExactly(SafeFileHandle file, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(file, destination, offset);
            if (read <= 0)
            {
                return false;
            }

            destination = destination[read..];
            offset += read;
        }

        return true;
    }
}

/// <summary>Makes renames and new files inside a folder survive a power loss, where the OS allows it.</summary>
internal static partial class Durability
{
    /// <summary>
    /// fsyncs the folder itself so a rename inside it is on disk. .NET cannot open a directory, so on Unix
    /// this goes to libc; Windows (NTFS journals renames) and failures are skipped: this is best effort on
    /// top of the file-level fsyncs, which already made the data durable.
    /// </summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return;
        }

        try
        {
            var fd = Open(directory, 0);
            if (fd < 0)
            {
                return;
            }

            _ = Fsync(fd);
            _ = Close(fd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc under that name on this platform; nothing more can be done.
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
