using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace RagPlatform.Sdk.Storage;

/// <summary>Which file a replayed frame comes from.</summary>
public enum JournalPart
{
    Snapshot,
    Log,
}

/// <summary>Applies one replayed frame body to the store's memory.</summary>
public delegate void JournalReplay(ReadOnlySpan<byte> body, JournalPart part);

/// <summary>How a store opens its <see cref="Journal"/>.</summary>
public sealed class JournalOptions
{
    /// <summary>A number of the store's own kept in every header and checked on open (the embedded vector store
    /// keeps its dimensions there); a file with another tag is refused.</summary>
    public int Tag { get; init; }

    /// <summary>fsync every append (survives power loss); otherwise an append is handed to the OS (survives a
    /// process crash). Snapshots are always fsynced.</summary>
    public bool FlushToDisk { get; init; }

    /// <summary>Files an older format of this store left (e.g. <c>snapshot.bin</c>, <c>log.bin</c>). While the
    /// journal has no files of its own and one of these exists, <see cref="Journal.MigrationPending"/> is true:
    /// the store reads them its old way and calls <see cref="Journal.Compact"/>, which writes the journal and
    /// then deletes them.</summary>
    public IReadOnlyList<string> LegacyFiles { get; init; } = [];

    /// <summary>Told the record count the snapshot header carries, before its frames are replayed (to size memory).</summary>
    public Action<long>? OnSnapshotCount { get; init; }

    /// <summary>Told the snapshot's generation (0 without one) once its frames are replayed and before the log's are
    /// (the FAISS store opens the index file of that generation here, which the log's records then update).</summary>
    public Action<long>? OnSnapshotLoaded { get; init; }
}

/// <summary>
/// The one durable store layout of the file-based indexes (embedded vectors, FAISS payloads, the lexical index):
/// a snapshot and an append-only log in a folder. Both files start with a 32-byte header (8-byte magic
/// <c>RAGJSNP1</c>/<c>RAGJLOG1</c>, int32 format version, int32 store tag, int64 generation, int64 record count),
/// then frames <c>[int32 body length][uint32 CRC-32C of the body][body]</c>, little-endian. A frame is written with one
/// write call; on open, the log is replayed up to the first frame that runs past the end or fails its checksum (a
/// write torn by a crash) and cut there. Compaction writes every live record to <c>journal.snapshot.tmp</c>, fsyncs
/// it, renames it over the snapshot, fsyncs the folder (so the rename itself is durable), then resets the log to the
/// new generation; a log of an older generation found on open is already inside the snapshot and is discarded.
/// Not thread-safe: the store serialises appends and compactions.
/// </summary>
public sealed partial class Journal : IDisposable
{
    public const string SnapshotFileName = "journal.snapshot";
    public const string LogFileName = "journal.log";
    public const int HeaderSize = 32;
    public const int FrameHeaderSize = 8;
    public const int FormatVersion = 1;

    /// <summary>Larger frames are refused on read: a corrupt length must not make us allocate gigabytes.</summary>
    public const int MaxFrameBytes = 1 << 30;

    private readonly JournalOptions _options;
    private readonly ILogger _logger;
    private SafeFileHandle? _log;
    private long _logLength;

    private Journal(string directory, JournalOptions options, ILogger logger)
    {
        Directory = directory;
        _options = options;
        _logger = logger;
    }

    public static ReadOnlySpan<byte> SnapshotMagic => "RAGJSNP1"u8;

    public static ReadOnlySpan<byte> LogMagic => "RAGJLOG1"u8;

    public string Directory { get; }

    public long Generation { get; private set; }

    /// <summary>Bytes of frames in the log (header excluded): what compaction would fold into the snapshot.</summary>
    public long LogBytes => Math.Max(0, _logLength - HeaderSize);

    /// <summary>True after a write failed in a way that left the log in doubt: no more appends until reopened.</summary>
    public bool Faulted { get; private set; }

    /// <summary>Only files of an older format exist: read them, then <see cref="Compact"/> before any append.</summary>
    public bool MigrationPending { get; private set; }

    /// <summary>Whether <paramref name="directory"/> holds a journal's files.</summary>
    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, SnapshotFileName)) || File.Exists(Path.Combine(directory, LogFileName));

    /// <summary>
    /// Opens the journal in <paramref name="directory"/> (creating the folder and an empty log when new) and replays
    /// the snapshot, then the log, into <paramref name="replay"/>. A damaged snapshot throws (snapshots are renamed
    /// into place only once complete); a torn log tail is cut off with a warning.
    /// </summary>
    public static Journal Open(string directory, JournalOptions options, JournalReplay replay, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(replay);
        System.IO.Directory.CreateDirectory(directory);
        var journal = new Journal(directory, options, logger);
        try
        {
            journal.Load(replay);
        }
        catch
        {
            journal.Dispose();
            throw;
        }

        return journal;
    }

    private void Load(JournalReplay replay)
    {
        var snapshotPath = Path.Combine(Directory, SnapshotFileName);
        DeleteIfExists(snapshotPath + ".tmp"); // a compaction that never renamed: the snapshot and log before it are whole
        var legacy = _options.LegacyFiles.Select(f => Path.Combine(Directory, f)).Where(File.Exists).ToList();
        if (!Exists(Directory) && legacy.Count > 0)
        {
            MigrationPending = true;
            return;
        }

        // Journal files exist, so any older-format files are leftovers of a migration whose snapshot already holds them.
        legacy.ForEach(File.Delete);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long generation = 0;
            if (File.Exists(snapshotPath))
            {
                generation = ReplaySnapshot(snapshotPath, replay, ref buffer);
            }

            _options.OnSnapshotLoaded?.Invoke(generation);
            var logPath = Path.Combine(Directory, LogFileName);
            // Others may read it (a backup copying a live store), never write it.
            _log = File.OpenHandle(logPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            var length = RandomAccess.GetLength(_log);
            if (length < HeaderSize)
            {
                // New, or a crash while the log was being reset.
                ResetLog(generation);
                return;
            }

            var header = new byte[HeaderSize];
            ReadExactly(_log, header, 0);
            var (logGeneration, _) = ReadHeader(header, LogMagic, logPath);
            if (logGeneration != generation)
            {
                // The crash came after a snapshot replaced the file but before the log was reset: the snapshot holds it all.
                _logger.LogInformation("Discarding the log of generation {LogGeneration} in {Directory}: the snapshot (generation {Generation}) already holds it.", logGeneration, Directory, generation);
                ResetLog(generation);
                return;
            }

            long offset = HeaderSize;
            var frames = 0;
            while (TryReadFrame(_log, offset, length, ref buffer) is var bodyLength and >= 0)
            {
                replay(buffer.AsSpan(0, bodyLength), JournalPart.Log);
                offset += FrameHeaderSize + bodyLength;
                frames++;
            }

            if (offset < length)
            {
                _logger.LogWarning("Cutting {Bytes} bytes of torn log tail in {Directory} (a write interrupted by a crash); {Frames} whole frames replayed.", length - offset, Directory, frames);
                RandomAccess.SetLength(_log, offset);
                RandomAccess.FlushToDisk(_log);
            }

            _logLength = offset;
            Generation = generation;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private long ReplaySnapshot(string path, JournalReplay replay, ref byte[] buffer)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var length = RandomAccess.GetLength(file);
        var header = new byte[HeaderSize];
        if (length < HeaderSize || !ReadExactly(file, header, 0))
        {
            throw new InvalidDataException($"Snapshot '{path}' is too short to be one.");
        }

        var (generation, count) = ReadHeader(header, SnapshotMagic, path);
        _options.OnSnapshotCount?.Invoke(count);
        long offset = HeaderSize;
        while (offset < length)
        {
            var bodyLength = TryReadFrame(file, offset, length, ref buffer);
            if (bodyLength < 0)
            {
                throw new InvalidDataException($"Snapshot '{path}' is damaged at byte {offset}.");
            }

            replay(buffer.AsSpan(0, bodyLength), JournalPart.Snapshot);
            offset += FrameHeaderSize + bodyLength;
        }

        return generation;
    }

    /// <summary>Where the next frame will be appended; pass it to <see cref="TruncateTo"/> to take back later frames.</summary>
    public long LogPosition => _logLength;

    /// <summary>
    /// Takes back the frames appended since <paramref name="position"/> (a <see cref="LogPosition"/>), for a store
    /// that logged a write and then could not apply it: replaying it at every open would fail the same way.
    /// </summary>
    public void TruncateTo(long position)
    {
        var log = _log ?? throw new ObjectDisposedException(nameof(Journal));
        ArgumentOutOfRangeException.ThrowIfLessThan(position, HeaderSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, _logLength);
        RandomAccess.SetLength(log, position);
        _logLength = position;
    }

    /// <summary>While <see cref="MigrationPending"/>: the generation the older files had, so the journal continues
    /// from it (a store that names files by generation, as FAISS's index files, keeps them apart).</summary>
    public void SetMigratedGeneration(long generation)
    {
        if (!MigrationPending)
        {
            throw new InvalidOperationException("Only a journal migrating older files takes their generation.");
        }

        Generation = generation;
    }

    /// <summary>Appends one frame holding <paramref name="body"/>.</summary>
    public void Append(ReadOnlySpan<byte> body)
    {
        var frame = ArrayPool<byte>.Shared.Rent(FrameHeaderSize + body.Length);
        try
        {
            var span = frame.AsSpan(0, FrameHeaderSize + body.Length);
            body.CopyTo(span[FrameHeaderSize..]);
            SealFrame(span);
            AppendFrames(span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>
    /// Appends frames the store built in place (each begins with <see cref="FrameHeaderSize"/> bytes sealed by
    /// <see cref="SealFrame"/>), with one write call. A failed write is rolled back so no partial frame hides later ones.
    /// </summary>
    public void AppendFrames(ReadOnlySpan<byte> frames)
    {
        if (MigrationPending)
        {
            throw new InvalidOperationException($"The journal in '{Directory}' must be compacted from its older files before it is written.");
        }

        if (Faulted)
        {
            throw new IOException($"The journal in '{Directory}' stopped accepting writes after a storage error; restart to recover from its files.");
        }

        var log = _log ?? throw new ObjectDisposedException(nameof(Journal));
        try
        {
            RandomAccess.Write(log, frames, _logLength);
            if (_options.FlushToDisk)
            {
                RandomAccess.FlushToDisk(log);
            }
        }
        catch
        {
            try
            {
                RandomAccess.SetLength(log, _logLength);
            }
            catch (Exception e)
            {
                Faulted = true;
                _logger.LogError(e, "Could not roll back a failed log write in {Directory}; the store is read-only until restart.", Directory);
            }

            throw;
        }

        _logLength += frames.Length;
    }

    /// <summary>
    /// Replaces the snapshot with what <paramref name="write"/> writes (every live record, <paramref name="count"/>
    /// of them) and empties the log: temp file, fsync, rename, fsync of the folder, then the log reset to the new
    /// generation. A crash at any point leaves either the old snapshot and its log or the new snapshot.
    /// </summary>
    public void Compact(long count, Action<JournalSnapshotWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var path = Path.Combine(Directory, SnapshotFileName);
        var temp = path + ".tmp";
        var generation = Generation + 1;
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
        {
            var header = new byte[HeaderSize];
            WriteHeader(header, SnapshotMagic, generation, count);
            file.Write(header);
            write(new JournalSnapshotWriter(file));
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        FlushDirectory(Directory);
        try
        {
            if (_log is null)
            {
                _log = File.OpenHandle(Path.Combine(Directory, LogFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            }

            ResetLog(generation);
        }
        catch (Exception e)
        {
            // The old log now names a superseded generation: appending to it would lose writes at the next open.
            Faulted = true;
            _logger.LogError(e, "Could not reset the log of {Directory} after a snapshot; the store is read-only until restart.", Directory);
            throw;
        }

        if (MigrationPending)
        {
            foreach (var legacy in _options.LegacyFiles)
            {
                DeleteIfExists(Path.Combine(Directory, legacy));
            }

            FlushDirectory(Directory);
            MigrationPending = false;
            _logger.LogInformation("Rewrote the store in {Directory} in the journal format (generation {Generation}).", Directory, generation);
        }
    }

    private void ResetLog(long generation)
    {
        var log = _log!;
        // Emptied first: a crash before the new header lands leaves an empty log, which reads as "nothing to replay".
        RandomAccess.SetLength(log, 0);
        var header = new byte[HeaderSize];
        WriteHeader(header, LogMagic, generation, 0);
        RandomAccess.Write(log, header, 0);
        RandomAccess.FlushToDisk(log);
        Generation = generation;
        _logLength = HeaderSize;
    }

    public void Dispose()
    {
        _log?.Dispose();
        _log = null;
    }

    // ---- the format ------------------------------------------------------------------------------------

    /// <summary>Writes the length and checksum of the body that follows the first <see cref="FrameHeaderSize"/> bytes of <paramref name="frame"/>.</summary>
    public static void SealFrame(Span<byte> frame)
    {
        var body = frame[FrameHeaderSize..];
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Crc32C(body));
    }

    private void WriteHeader(Span<byte> destination, ReadOnlySpan<byte> magic, long generation, long count)
    {
        magic.CopyTo(destination);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], _options.Tag);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], count);
    }

    private (long Generation, long Count) ReadHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> magic, string path)
    {
        if (!source[..8].SequenceEqual(magic))
        {
            throw new InvalidDataException($"'{path}' is not a journal file of this kind.");
        }

        var version = BinaryPrimitives.ReadInt32LittleEndian(source[8..]);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"'{path}' has journal format version {version}; this build reads {FormatVersion}.");
        }

        var tag = BinaryPrimitives.ReadInt32LittleEndian(source[12..]);
        if (tag != _options.Tag)
        {
            throw new InvalidDataException($"'{path}' was written with store tag {tag}; this store expects {_options.Tag}.");
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(source[16..]), BinaryPrimitives.ReadInt64LittleEndian(source[24..]));
    }

    /// <summary>
    /// Reads the frame at <paramref name="offset"/> into <paramref name="buffer"/> (grown as needed). Returns the body
    /// length, or -1 when there is no whole, intact frame there.
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
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (bodyLength < 0 || bodyLength > MaxFrameBytes || bodyLength > fileLength - offset - FrameHeaderSize)
        {
            return -1;
        }

        if (buffer.Length < bodyLength)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(bodyLength);
        }

        var body = buffer.AsSpan(0, bodyLength);
        return ReadExactly(file, body, offset + FrameHeaderSize) && Crc32C(body) == expected ? bodyLength : -1;
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

    /// <summary>CRC-32C (Castagnoli), with the CPU's CRC instruction where there is one.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
        {
            crc = BitOperations.Crc32C(crc, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        }

        foreach (var b in data[(words.Length * sizeof(ulong))..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// fsyncs the folder itself so a rename inside it is on disk. .NET cannot open a directory, so on Unix this goes
    /// to libc; Windows (NTFS journals renames) and failures are skipped: best effort on top of the file fsyncs.
    /// </summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return;
        }

        try
        {
            var fd = OpenDirectory(directory, 0);
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
    private static partial int OpenDirectory(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}

/// <summary>Writes a snapshot's frames during <see cref="Journal.Compact"/>.</summary>
public sealed class JournalSnapshotWriter
{
    private readonly Stream _file;

    internal JournalSnapshotWriter(Stream file) => _file = file;

    /// <summary>Writes one frame holding <paramref name="body"/>.</summary>
    public void Write(ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[Journal.FrameHeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(header, body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Journal.Crc32C(body));
        _file.Write(header);
        _file.Write(body);
    }

    /// <summary>Writes frames built in place and sealed with <see cref="Journal.SealFrame"/>.</summary>
    public void WriteFrames(ReadOnlySpan<byte> frames) => _file.Write(frames);
}
