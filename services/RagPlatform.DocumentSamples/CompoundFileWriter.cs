using System.Buffers.Binary;
using System.Text;

namespace RagPlatform.DocumentSamples;

/// <summary>
/// Writes an OLE compound file ([MS-CFB], version 3: 512-byte sectors) from streams named by path
/// ("BodyText/Section0"): streams under 4,096 bytes go to the mini stream, storages are implied by the paths. Only
/// what fixtures need: one FAT of at most 109 sectors (files up to ~6.8 MB), no DIFAT sectors.
/// </summary>
public static class CompoundFileWriter
{
    private const int SectorSize = 512;
    private const int MiniSectorSize = 64;
    private const int MiniCutoff = 4096;
    private const uint EndOfChain = 0xFFFFFFFE;
    private const uint FreeSector = 0xFFFFFFFF;
    private const uint FatSector = 0xFFFFFFFD;
    private const uint NoStream = 0xFFFFFFFF;

    private sealed class Node(string name, bool storage)
    {
        public string Name { get; } = name;

        public bool Storage { get; } = storage;

        public byte[] Data { get; set; } = [];

        public List<Node> Children { get; } = [];

        public int Index { get; set; }

        public uint Start { get; set; } = EndOfChain;
    }

    public static byte[] Write(IReadOnlyList<(string Path, byte[] Data)> streams)
    {
        var root = new Node("Root Entry", true);
        foreach (var (path, data) in streams)
        {
            var parent = root;
            var parts = path.Split('/');
            foreach (var storage in parts[..^1])
            {
                var next = parent.Children.FirstOrDefault(c => c.Name == storage && c.Storage);
                if (next is null)
                {
                    next = new Node(storage, true);
                    parent.Children.Add(next);
                }

                parent = next;
            }

            parent.Children.Add(new Node(parts[^1], false) { Data = data });
        }

        var nodes = new List<Node>();
        void Number(Node node)
        {
            node.Index = nodes.Count;
            nodes.Add(node);
            foreach (var child in node.Children)
            {
                Number(child);
            }
        }

        Number(root);

        var fat = new List<uint>();
        var sectors = new List<byte[]>();
        uint Allocate(byte[] data)
        {
            if (data.Length == 0)
            {
                return EndOfChain;
            }

            var first = (uint)sectors.Count;
            for (var offset = 0; offset < data.Length; offset += SectorSize)
            {
                var sector = new byte[SectorSize];
                data.AsSpan(offset, Math.Min(SectorSize, data.Length - offset)).CopyTo(sector);
                sectors.Add(sector);
                fat.Add(offset + SectorSize >= data.Length ? EndOfChain : (uint)sectors.Count);
            }

            return first;
        }

        // Small streams into the mini stream, large ones into sectors of their own.
        var mini = new MemoryStream();
        var miniFat = new List<uint>();
        foreach (var node in nodes.Where(n => !n.Storage))
        {
            if (node.Data.Length >= MiniCutoff)
            {
                node.Start = Allocate(node.Data);
            }
            else if (node.Data.Length > 0)
            {
                node.Start = (uint)miniFat.Count;
                var count = (node.Data.Length + MiniSectorSize - 1) / MiniSectorSize;
                for (var i = 0; i < count; i++)
                {
                    miniFat.Add(i == count - 1 ? EndOfChain : (uint)(miniFat.Count + 1));
                }

                mini.Write(node.Data);
                mini.Write(new byte[(count * MiniSectorSize) - node.Data.Length]);
            }
        }

        root.Start = Allocate(mini.ToArray());
        var miniFatBytes = new byte[miniFat.Count * 4];
        for (var i = 0; i < miniFat.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(miniFatBytes.AsSpan(4 * i), miniFat[i]);
        }

        var firstMiniFat = Allocate(miniFatBytes);
        var directory = Directory(nodes, root, (uint)mini.Length);
        var firstDirectory = Allocate(directory);

        // FAT sectors cover every sector, themselves included.
        var fatSectors = 1;
        while ((sectors.Count + fatSectors) > fatSectors * (SectorSize / 4))
        {
            fatSectors++;
        }

        if (fatSectors > 109)
        {
            throw new InvalidOperationException("The fixture writer supports compound files up to ~6.8 MB.");
        }

        var firstFat = sectors.Count;
        for (var i = 0; i < fatSectors; i++)
        {
            fat.Add(FatSector);
            sectors.Add(new byte[SectorSize]);
        }

        for (var i = 0; i < fatSectors * (SectorSize / 4); i++)
        {
            var value = i < fat.Count ? fat[i] : FreeSector;
            BinaryPrimitives.WriteUInt32LittleEndian(sectors[firstFat + (i / (SectorSize / 4))].AsSpan(4 * (i % (SectorSize / 4))), value);
        }

        var header = new byte[SectorSize];
        byte[] signature = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        signature.CopyTo(header, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(24), 0x003E);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(26), 3);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(28), 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(30), 9);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(32), 6);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(44), (uint)fatSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(48), firstDirectory);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(56), MiniCutoff);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(60), miniFat.Count == 0 ? EndOfChain : firstMiniFat);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(64), (uint)((miniFatBytes.Length + SectorSize - 1) / SectorSize));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(68), EndOfChain);
        for (var i = 0; i < 109; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(76 + (4 * i)), i < fatSectors ? (uint)(firstFat + i) : FreeSector);
        }

        using var output = new MemoryStream();
        output.Write(header);
        foreach (var sector in sectors)
        {
            output.Write(sector);
        }

        return output.ToArray();
    }

    private static byte[] Directory(List<Node> nodes, Node root, uint miniStreamSize)
    {
        var entries = new byte[((nodes.Count + 3) / 4) * 4 * 128];
        for (var i = 0; i < entries.Length / 128; i++)
        {
            var entry = entries.AsSpan(i * 128, 128);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[68..], NoStream);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[72..], NoStream);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[76..], NoStream);
        }

        foreach (var node in nodes)
        {
            var entry = entries.AsSpan(node.Index * 128, 128);
            var name = Encoding.Unicode.GetBytes(node.Name);
            name.CopyTo(entry);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[64..], (ushort)(name.Length + 2));
            entry[66] = node == root ? (byte)5 : node.Storage ? (byte)1 : (byte)2;
            entry[67] = 1; // black
            // Children as a chain of right siblings in the format's order (shorter names first, then by upper-case name).
            var children = node.Children.OrderBy(c => c.Name.Length).ThenBy(c => c.Name.ToUpperInvariant(), StringComparer.Ordinal).ToList();
            BinaryPrimitives.WriteUInt32LittleEndian(entry[76..], children.Count > 0 ? (uint)children[0].Index : NoStream);
            for (var c = 0; c < children.Count; c++)
            {
                var child = entries.AsSpan(children[c].Index * 128, 128);
                BinaryPrimitives.WriteUInt32LittleEndian(child[72..], c + 1 < children.Count ? (uint)children[c + 1].Index : NoStream);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(entry[116..], node.Storage && node != root ? 0 : node.Start);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[120..], node == root ? miniStreamSize : node.Storage ? 0 : (uint)node.Data.Length);
        }

        return entries;
    }
}
