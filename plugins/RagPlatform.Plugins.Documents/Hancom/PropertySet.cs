using System.Buffers.Binary;
using System.Text;

namespace RagPlatform.Plugins.Documents.Hancom;

/// <summary>
/// The first section of an OLE property set stream ([MS-OLEPS]): property id → value, for the string
/// (VT_LPSTR, VT_LPWSTR) and time (VT_FILETIME) properties a summary holds. Anything malformed yields null.
/// </summary>
internal static class PropertySet
{
    private const ushort VtLpstr = 0x1E;
    private const ushort VtLpwstr = 0x1F;
    private const ushort VtFiletime = 0x40;

    public static Dictionary<uint, object>? Read(byte[] stream)
    {
        var data = stream.AsSpan();
        if (data.Length < 48 || BinaryPrimitives.ReadUInt16LittleEndian(data) != 0xFFFE)
        {
            return null;
        }

        var sectionOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[44..]);
        if (sectionOffset + 8 > (uint)data.Length)
        {
            return null;
        }

        var section = data[(int)sectionOffset..];
        var count = BinaryPrimitives.ReadUInt32LittleEndian(section[4..]);
        if (count > 1024 || 8 + (count * 8) > (uint)section.Length)
        {
            return null;
        }

        var values = new Dictionary<uint, object>();
        for (var i = 0; i < count; i++)
        {
            var id = BinaryPrimitives.ReadUInt32LittleEndian(section[(8 + (8 * i))..]);
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(section[(12 + (8 * i))..]);
            if (offset + 8 > (uint)section.Length)
            {
                continue;
            }

            var value = section[(int)offset..];
            var type = BinaryPrimitives.ReadUInt16LittleEndian(value);
            switch (type)
            {
                case VtLpwstr:
                    var chars = BinaryPrimitives.ReadUInt32LittleEndian(value[4..]);
                    if (chars * 2 <= (uint)(value.Length - 8))
                    {
                        values[id] = Encoding.Unicode.GetString(value.Slice(8, (int)chars * 2)).TrimEnd('\0');
                    }

                    break;
                case VtLpstr:
                    var bytes = BinaryPrimitives.ReadUInt32LittleEndian(value[4..]);
                    if (bytes <= (uint)(value.Length - 8))
                    {
                        values[id] = Encoding.UTF8.GetString(value.Slice(8, (int)bytes)).TrimEnd('\0');
                    }

                    break;
                case VtFiletime when value.Length >= 12:
                    var ticks = BinaryPrimitives.ReadInt64LittleEndian(value[4..]);
                    if (ticks > 0 && ticks < DateTime.MaxValue.ToFileTimeUtc())
                    {
                        values[id] = new DateTimeOffset(DateTime.FromFileTimeUtc(ticks));
                    }

                    break;
            }
        }

        return values;
    }
}
