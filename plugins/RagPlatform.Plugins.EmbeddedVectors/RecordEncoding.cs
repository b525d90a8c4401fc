using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// Builds one record body in a reusable buffer. Integers are little-endian; strings are a 7-bit-encoded
/// UTF-8 byte count followed by the bytes; floats are copied raw (the backend refuses big-endian hosts).
/// </summary>
internal sealed class RecordWriter
{
    private byte[] _buffer;
    private int _length;

    public RecordWriter(int initialCapacity = 64 * 1024) => _buffer = new byte[initialCapacity];

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Reset() => _length = 0;

    /// <summary>
    /// Empties the writer and lets go of a buffer grown past <paramref name="maxRetainedBytes"/> by one
    /// large batch, so an idle collection does not keep megabytes of scratch.
    /// </summary>
    public void Release(int maxRetainedBytes)
    {
        _length = 0;
        if (_buffer.Length > maxRetainedBytes)
        {
            _buffer = new byte[maxRetainedBytes];
        }
    }

    /// <summary>Reserves <paramref name="count"/> bytes to be filled in later (a frame header) and returns their offset.</summary>
    public int Reserve(int count)
    {
        var offset = _length;
        GetSpan(count);
        _length += count;
        return offset;
    }

    public Span<byte> WrittenSpan(int offset, int count) => _buffer.AsSpan(offset, count);

    public void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        _length++;
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value);
        _length += 4;
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value);
        _length += 8;
    }

    public void WriteVarUInt(uint value)
    {
        var span = GetSpan(5);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _length += i;
    }

    public void WriteString(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteVarUInt((uint)byteCount);
        _length += Encoding.UTF8.GetBytes(value, GetSpan(byteCount));
    }

    public void WriteNullableString(string? value)
    {
        WriteByte(value is null ? (byte)0 : (byte)1);
        if (value is not null)
        {
            WriteString(value);
        }
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteVarUInt((uint)value.Length);
        value.CopyTo(GetSpan(value.Length));
        _length += value.Length;
    }

    public void WriteFloats(ReadOnlySpan<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    /// <summary>Room for <paramref name="count"/> floats, written by the caller in place (saves a copy).</summary>
    public Span<float> ReserveFloats(int count)
    {
        var bytes = GetSpan(checked(count * sizeof(float)));
        _length += bytes.Length;
        return MemoryMarshal.Cast<byte, float>(bytes);
    }

    private Span<byte> GetSpan(int count)
    {
        if (_buffer.Length - _length < count)
        {
            var needed = (long)_length + count;
            var size = Math.Max(needed, Math.Min((long)_buffer.Length * 2, Array.MaxLength));
            if (size > Array.MaxLength)
            {
                throw new InvalidOperationException("A single record cannot exceed 2 GiB.");
            }

            Array.Resize(ref _buffer, (int)size);
        }

        return _buffer.AsSpan(_length, count);
    }
}

/// <summary>Reads what <see cref="RecordWriter"/> wrote; any overrun means the record is corrupt.</summary>
internal ref struct RecordReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly bool AtEnd => _position == _data.Length;

    public readonly int Position => _position;

    public byte ReadByte() => Take(1)[0];

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public uint ReadVarUInt()
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = ReadByte();
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new InvalidDataException("Malformed length in record.");
    }

    public string ReadString() => Encoding.UTF8.GetString(Take(checked((int)ReadVarUInt())));

    public string? ReadNullableString() => ReadByte() switch
    {
        0 => null,
        1 => ReadString(),
        var other => throw new InvalidDataException($"Malformed optional string marker {other} in record."),
    };

    public ReadOnlySpan<byte> ReadBytes() => Take(checked((int)ReadVarUInt()));

    public ReadOnlySpan<float> ReadFloats(int count) => MemoryMarshal.Cast<byte, float>(Take(checked(count * sizeof(float))));

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_data.Length - _position))
        {
            throw new InvalidDataException("Record ends early.");
        }

        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}
