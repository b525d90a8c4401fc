using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Hancom;

/// <summary>
/// A read-only reader of OLE compound files ([MS-CFB]: "Compound File Binary File Format"), written from the
/// published format because no such reader is served to us. It reads the header, the FAT (through the header's
/// and any chained DIFAT entries), the directory tree and the mini stream, and hands out streams by path. Every
/// sector number, chain and size is checked: a damaged or hostile file fails with <see cref="DocumentParseFailure.Corrupt"/>
/// instead of looping, reading out of bounds or allocating what its fields claim.
/// </summary>
internal sealed class CompoundFile
{
    private const uint EndOfChain = 0xFFFFFFFE;
    private const uint FreeSector = 0xFFFFFFFF;
    private const uint NoStream = 0xFFFFFFFF;
    private const int DirectoryEntrySize = 128;
    private static readonly byte[] Signature = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

    private readonly ReadOnlyMemory<byte> _file;
    private readonly int _sectorSize;
    private readonly int _miniSectorSize;
    private readonly uint _miniStreamCutoff;
    private readonly uint[] _fat;
    private readonly uint[] _miniFat;
    private readonly byte[] _miniStream;
    private readonly List<Entry> _entries;

    private CompoundFile(ReadOnlyMemory<byte> file)
    {
        _file = file;
        var header = file.Span;
        if (header.Length < 512 || !header.StartsWith(Signature))
        {
            throw Corrupt("it is not an OLE compound file (no signature)");
        }

        var major = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
        var sectorShift = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
        var miniShift = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(header[28..]) != 0xFFFE || !(major == 3 && sectorShift == 9 || major == 4 && sectorShift == 12) || miniShift != 6)
        {
            throw Corrupt(string.Create(CultureInfo.InvariantCulture, $"unsupported header (version {major}, sector shift {sectorShift}, mini sector shift {miniShift})"));
        }

        _sectorSize = 1 << sectorShift;
        _miniSectorSize = 1 << miniShift;
        var fatSectors = BinaryPrimitives.ReadUInt32LittleEndian(header[44..]);
        var firstDirectory = BinaryPrimitives.ReadUInt32LittleEndian(header[48..]);
        _miniStreamCutoff = BinaryPrimitives.ReadUInt32LittleEndian(header[56..]);
        var firstMiniFat = BinaryPrimitives.ReadUInt32LittleEndian(header[60..]);
        var miniFatSectors = BinaryPrimitives.ReadUInt32LittleEndian(header[64..]);
        var firstDifat = BinaryPrimitives.ReadUInt32LittleEndian(header[68..]);
        var difatSectors = BinaryPrimitives.ReadUInt32LittleEndian(header[72..]);

        var sectorCount = (file.Length + _sectorSize - 1) / _sectorSize;
        if (fatSectors > sectorCount || miniFatSectors > sectorCount || difatSectors > sectorCount)
        {
            throw Corrupt("the header claims more sectors than the file has");
        }

        _fat = ReadFat(header, fatSectors, firstDifat, difatSectors);
        _entries = ReadDirectory(firstDirectory);
        var root = _entries.Count > 0 ? _entries[0] : throw Corrupt("the directory is empty");
        _miniStream = root.Size == 0 ? [] : ReadChain(root.Start, root.Size, "the mini stream");
        _miniFat = miniFatSectors == 0 ? [] : ToUInts(ReadChain(firstMiniFat, (long)miniFatSectors * _sectorSize, "the mini FAT"));
    }

    public static CompoundFile Open(ReadOnlyMemory<byte> file) => new(file);

    /// <summary>The stream at <paramref name="path"/> ("FileHeader", "BodyText/Section0"), or null when there is none.</summary>
    public byte[]? Read(string path, long maxBytes)
    {
        if (Find(path) is not { } entry)
        {
            return null;
        }

        if (entry.Size > maxBytes)
        {
            throw new DocumentParseException(DocumentParseFailure.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The stream {path} is {entry.Size:N0} bytes; the limit is {maxBytes:N0}."));
        }

        return entry.Size < _miniStreamCutoff ? ReadMini(entry) : ReadChain(entry.Start, entry.Size, path);
    }

    /// <summary>The names of the streams directly under a storage ("BodyText" → "Section0", "Section1", …).</summary>
    public IReadOnlyList<string> Children(string storage)
    {
        var parent = Find(storage);
        return parent is null ? [] : ChildrenOf(parent).Select(e => e.Name).ToList();
    }

    public bool Exists(string path) => Find(path) is not null;

    private sealed record Entry(string Name, byte Type, uint Left, uint Right, uint Child, uint Start, long Size);

    private Entry? Find(string path)
    {
        var current = _entries[0];
        foreach (var part in path.Split('/'))
        {
            current = ChildrenOf(current).FirstOrDefault(e => string.Equals(e.Name, part, StringComparison.OrdinalIgnoreCase));
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    /// <summary>A storage's children: the red-black tree under its child id, walked without recursion and without revisiting.</summary>
    private List<Entry> ChildrenOf(Entry storage)
    {
        var children = new List<Entry>();
        var seen = new HashSet<uint>();
        var pending = new Stack<uint>();
        pending.Push(storage.Child);
        while (pending.Count > 0)
        {
            var id = pending.Pop();
            if (id == NoStream)
            {
                continue;
            }

            if (id >= _entries.Count || !seen.Add(id))
            {
                throw Corrupt("the directory tree is broken (an entry out of range or visited twice)");
            }

            var entry = _entries[(int)id];
            children.Add(entry);
            pending.Push(entry.Left);
            pending.Push(entry.Right);
        }

        return children;
    }

    private uint[] ReadFat(ReadOnlySpan<byte> header, uint fatSectors, uint firstDifat, uint difatSectors)
    {
        var fatSectorList = new List<uint>((int)fatSectors);
        for (var i = 0; i < 109 && fatSectorList.Count < fatSectors; i++)
        {
            fatSectorList.Add(BinaryPrimitives.ReadUInt32LittleEndian(header[(76 + (4 * i))..]));
        }

        var difat = firstDifat;
        var perDifat = (_sectorSize / 4) - 1;
        for (var hops = 0; fatSectorList.Count < fatSectors; hops++)
        {
            if (difat is EndOfChain or FreeSector || hops >= difatSectors)
            {
                throw Corrupt("the DIFAT ends before listing every FAT sector");
            }

            var sector = Sector(difat, "the DIFAT");
            for (var i = 0; i < perDifat && fatSectorList.Count < fatSectors; i++)
            {
                fatSectorList.Add(BinaryPrimitives.ReadUInt32LittleEndian(sector[(4 * i)..]));
            }

            difat = BinaryPrimitives.ReadUInt32LittleEndian(sector[(4 * perDifat)..]);
        }

        var fat = new uint[fatSectorList.Count * (_sectorSize / 4)];
        for (var i = 0; i < fatSectorList.Count; i++)
        {
            var sector = Sector(fatSectorList[i], "the FAT");
            for (var j = 0; j < _sectorSize / 4; j++)
            {
                fat[(i * (_sectorSize / 4)) + j] = BinaryPrimitives.ReadUInt32LittleEndian(sector[(4 * j)..]);
            }
        }

        return fat;
    }

    private List<Entry> ReadDirectory(uint first)
    {
        var bytes = ReadChain(first, null, "the directory");
        var entries = new List<Entry>(bytes.Length / DirectoryEntrySize);
        for (var offset = 0; offset + DirectoryEntrySize <= bytes.Length; offset += DirectoryEntrySize)
        {
            var raw = bytes.AsSpan(offset, DirectoryEntrySize);
            var nameLength = Math.Clamp((int)BinaryPrimitives.ReadUInt16LittleEndian(raw[64..]), 0, 64);
            var name = Encoding.Unicode.GetString(raw[..Math.Max(0, nameLength - 2)]);
            var size = _sectorSize == 512
                ? BinaryPrimitives.ReadUInt32LittleEndian(raw[120..]) // version 3: the high half may hold garbage
                : BinaryPrimitives.ReadInt64LittleEndian(raw[120..]);
            if (size < 0 || size > _file.Length * 64L)
            {
                size = 0; // a stream cannot be larger than what its sectors hold; treat the entry as empty rather than trust it
            }

            entries.Add(new Entry(name, raw[66],
                BinaryPrimitives.ReadUInt32LittleEndian(raw[68..]),
                BinaryPrimitives.ReadUInt32LittleEndian(raw[72..]),
                BinaryPrimitives.ReadUInt32LittleEndian(raw[76..]),
                BinaryPrimitives.ReadUInt32LittleEndian(raw[116..]),
                size));
        }

        return entries;
    }

    /// <summary>The bytes of a FAT chain: exactly <paramref name="size"/> of them, or the whole chain when null.</summary>
    private byte[] ReadChain(uint start, long? size, string what)
    {
        var maxSectors = (_file.Length / _sectorSize) + 1;
        if (size is { } wanted && (wanted + _sectorSize - 1) / _sectorSize > maxSectors)
        {
            throw Corrupt($"{what} claims more bytes than the file holds");
        }

        using var output = new MemoryStream(size is { } known ? (int)Math.Min(known, int.MaxValue) : _sectorSize * 4);
        var sector = start;
        var count = 0L;
        while (sector != EndOfChain && (size is null || output.Length < size))
        {
            if (++count > maxSectors || sector >= _fat.Length)
            {
                throw Corrupt($"the sector chain of {what} loops or leaves the file");
            }

            var data = Sector(sector, what);
            var take = size is { } total ? (int)Math.Min(_sectorSize, total - output.Length) : _sectorSize;
            output.Write(data[..take]);
            sector = _fat[sector];
        }

        if (size is { } expected && output.Length < expected)
        {
            throw Corrupt($"{what} ends before its declared size");
        }

        return output.ToArray();
    }

    private byte[] ReadMini(Entry entry)
    {
        var output = new byte[entry.Size];
        var sector = entry.Start;
        var written = 0;
        var count = 0;
        while (written < output.Length)
        {
            var offset = (long)sector * _miniSectorSize;
            if (sector >= _miniFat.Length || offset + _miniSectorSize > _miniStream.Length || ++count > _miniFat.Length)
            {
                throw Corrupt($"the mini stream chain of {entry.Name} loops or leaves the mini stream");
            }

            var take = Math.Min(_miniSectorSize, output.Length - written);
            _miniStream.AsSpan((int)offset, take).CopyTo(output.AsSpan(written));
            written += take;
            sector = _miniFat[sector];
        }

        return output;
    }

    private ReadOnlySpan<byte> Sector(uint sector, string what)
    {
        var offset = ((long)sector + 1) * _sectorSize;
        if (sector >= 0xFFFFFFFA || offset + _sectorSize > _file.Length)
        {
            // The last sector of a file may be short; anything else outside the file is damage.
            if (sector < 0xFFFFFFFA && offset < _file.Length)
            {
                var padded = new byte[_sectorSize];
                _file.Span[(int)offset..].CopyTo(padded);
                return padded;
            }

            throw Corrupt(string.Create(CultureInfo.InvariantCulture, $"{what} points at sector {sector}, outside the file"));
        }

        return _file.Span.Slice((int)offset, _sectorSize);
    }

    private static uint[] ToUInts(byte[] bytes)
    {
        var values = new uint[bytes.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4 * i));
        }

        return values;
    }

    private static DocumentParseException Corrupt(string why) =>
        new(DocumentParseFailure.Corrupt, "The OLE compound file is damaged: " + why + ".");
}
