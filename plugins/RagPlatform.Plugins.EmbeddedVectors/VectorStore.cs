using System.Runtime.InteropServices;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// A collection's vectors in one contiguous native block, slot i at [i*d, (i+1)*d), grown by doubling.
/// <para>
/// Native rather than a float[]: growth goes through realloc, which for large blocks remaps the existing
/// pages instead of copying them (glibc uses mremap), so doubling neither copies the store nor faults in
/// a second copy of it. On virtual machines first-touch page faults dominate the write path (several
/// microseconds per 4 KiB page), so touching each page once matters more than anything else there.
/// It also lifts the 2^31-element cap of an array.
/// </para>
/// The block may move when it grows or be freed when the collection closes; both happen only under the
/// collection's write lock, so a search (which holds the read lock) never sees a stale row.
/// </summary>
internal sealed unsafe class VectorStore : IDisposable
{
    private readonly int _dimensions;
    private float* _data;

    public VectorStore(int dimensions) => _dimensions = dimensions;

    ~VectorStore() => Free();

    /// <summary>How many slots the block holds.</summary>
    public int Capacity { get; private set; }

    public Span<float> Row(int slot) => new(_data + ((long)slot * _dimensions), _dimensions);

    /// <summary>The first float of slot <paramref name="slot"/>; rows follow each other without gaps.</summary>
    public float* RowPointer(int slot) => _data + ((long)slot * _dimensions);

    /// <summary>Makes room for at least <paramref name="required"/> slots, doubling; rows already written are kept.</summary>
    public void EnsureCapacity(int required)
    {
        if (required <= Capacity)
        {
            return;
        }

        var capacity = (int)Math.Clamp(Math.Max(Capacity * 2L, 64), required, Array.MaxLength);
        var bytes = (nuint)capacity * (nuint)_dimensions * sizeof(float);
        _data = (float*)NativeMemory.Realloc(_data, bytes);
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
        _data = null;
        Capacity = 0;
    }
}
