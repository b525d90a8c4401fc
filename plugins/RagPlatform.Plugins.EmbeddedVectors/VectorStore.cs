using System.Runtime.InteropServices;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// A collection's vectors in one contiguous native block, slot i at [i*d, (i+1)*d), grown by doubling;
/// optionally beside it a bfloat16 copy of every row (each float's upper 16 bits) and each row's norm,
/// which the single-query scan reads first (<see cref="EmbeddedVectorOptions.BFloat16Prefilter"/>).
/// <para>
/// Native rather than a float[]: growth goes through realloc, which for large blocks remaps the existing
/// pages instead of copying them (glibc uses mremap), so doubling neither copies the store nor faults in
/// a second copy of it. On virtual machines first-touch page faults dominate the write path (several
/// microseconds per 4 KiB page), so touching each page once matters more than anything else there.
/// It also lifts the 2^31-element cap of an array.
/// </para>
/// The blocks may move when they grow or be freed when the collection closes; both happen only under the
/// collection's write lock, so a search (which holds the read lock) never sees a stale row.
/// </summary>
internal sealed unsafe class VectorStore : IDisposable
{
    private readonly int _dimensions;
    private float* _data;
    private ushort* _high;
    private float* _norms;

    public VectorStore(int dimensions, bool keepBFloat16 = false)
    {
        _dimensions = dimensions;
        HasBFloat16 = keepBFloat16;
    }

    ~VectorStore() => Free();

    /// <summary>How many slots the block holds.</summary>
    public int Capacity { get; private set; }

    /// <summary>Whether the bfloat16 copy and the row norms are kept.</summary>
    public bool HasBFloat16 { get; }

    public ReadOnlySpan<float> Row(int slot) => new(_data + ((long)slot * _dimensions), _dimensions);

    /// <summary>The first float of slot <paramref name="slot"/>; rows follow each other without gaps.</summary>
    public float* RowPointer(int slot) => _data + ((long)slot * _dimensions);

    /// <summary>The first bfloat16 of slot <paramref name="slot"/> in the copy (only with <see cref="HasBFloat16"/>).</summary>
    public ushort* HighPointer(int slot) => _high + ((long)slot * _dimensions);

    /// <summary>Each slot's Euclidean norm, rounded up (only with <see cref="HasBFloat16"/>).</summary>
    public float* Norms => _norms;

    /// <summary>Stores <paramref name="vector"/> in <paramref name="slot"/> (and its bfloat16 copy and norm).</summary>
    public void Write(int slot, ReadOnlySpan<float> vector)
    {
        vector.CopyTo(new Span<float>(RowPointer(slot), _dimensions));
        if (!HasBFloat16)
        {
            return;
        }

        var high = HighPointer(slot);
        var bits = MemoryMarshal.Cast<float, uint>(vector);
        double squares = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            // Truncation, not rounding: |x - high(x)| < 2^-7 |x| for every normal x, the bound the scan relies on.
            high[i] = (ushort)(bits[i] >> 16);
            squares += (double)vector[i] * vector[i];
        }

        // Rounded up so that it never understates the norm the error bound multiplies.
        _norms[slot] = (float)(Math.Sqrt(squares) * (1 + 1e-6));
    }

    /// <summary>Copies slot <paramref name="from"/> over slot <paramref name="to"/>.</summary>
    public void Move(int from, int to)
    {
        Buffer.MemoryCopy(RowPointer(from), RowPointer(to), (long)_dimensions * sizeof(float), (long)_dimensions * sizeof(float));
        if (HasBFloat16)
        {
            Buffer.MemoryCopy(HighPointer(from), HighPointer(to), (long)_dimensions * sizeof(ushort), (long)_dimensions * sizeof(ushort));
            _norms[to] = _norms[from];
        }
    }

    /// <summary>Makes room for at least <paramref name="required"/> slots, doubling; rows already written are kept.</summary>
    public void EnsureCapacity(int required)
    {
        if (required <= Capacity)
        {
            return;
        }

        var capacity = (int)Math.Clamp(Math.Max(Capacity * 2L, 64), required, Array.MaxLength);
        _data = (float*)NativeMemory.Realloc(_data, (nuint)capacity * (nuint)_dimensions * sizeof(float));
        if (HasBFloat16)
        {
            _high = (ushort*)NativeMemory.Realloc(_high, (nuint)capacity * (nuint)_dimensions * sizeof(ushort));
            _norms = (float*)NativeMemory.Realloc(_norms, (nuint)capacity * sizeof(float));
        }

        Capacity = capacity;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        NativeMemory.Free(_data);
        NativeMemory.Free(_high);
        NativeMemory.Free(_norms);
        _data = null;
        _high = null;
        _norms = null;
        Capacity = 0;
    }
}
