using System.Runtime.InteropServices;

namespace RagPlatform.Plugins.Onnx.Interop;

/// <summary>An ORT object (session, session options, memory info, value) released through its own Release entry.</summary>
internal sealed unsafe class OrtHandle : SafeHandle
{
    private static long _live;
    private readonly delegate* unmanaged<nint, void> _release;

    public OrtHandle(nint handle, delegate* unmanaged<nint, void> release)
        : base(0, ownsHandle: true)
    {
        _release = release;
        SetHandle(handle);
        if (handle != 0)
        {
            Interlocked.Increment(ref _live);
        }
    }

    /// <summary>ORT objects created through this class and not yet released, process-wide (tests prove release with it).</summary>
    internal static long Live => Interlocked.Read(ref _live);

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        _release(handle);
        Interlocked.Decrement(ref _live);
        return true;
    }
}
