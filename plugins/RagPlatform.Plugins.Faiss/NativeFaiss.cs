using System.Runtime.InteropServices;
using System.Text;

namespace RagPlatform.Plugins.Faiss;

/// <summary>
/// The shim's entry points (native/ragfaiss.cpp), resolved once from an explicit file. Function pointers
/// instead of [DllImport] so that finding the library does not depend on which load context the plugin
/// runs in: the host's PluginLoadContext, a test runner, or a tool that loads the assembly directly.
/// </summary>
internal sealed unsafe class NativeFaiss
{
    public const string LibraryFileName = "libragfaiss.so";
    // 2: HNSW over flat storage computes distances with the shim's SIMD kernels (ragfaiss_distance_kernels);
    // a library of ABI 1 would still work but ingest about four times slower, so it is refused and rebuilt.
    private const int AbiVersion = 2;
    private const int ErrorBufferSize = 1024;

    public const int Ok = 0;
    public const int Unsupported = 2;

    private static readonly Lock LoadLock = new();
    private static readonly Dictionary<string, NativeFaiss> Loaded = new(StringComparer.Ordinal);

    private readonly delegate* unmanaged<byte*, int, int, nint*, byte*, nuint, int> _create;
    private readonly delegate* unmanaged<nint, int, int, byte*, nuint, int> _setHnsw;
    private readonly delegate* unmanaged<nint, int> _isTrained;
    private readonly delegate* unmanaged<nint, long, float*, byte*, nuint, int> _train;
    private readonly delegate* unmanaged<nint, long, float*, long*, byte*, nuint, int> _add;
    private readonly delegate* unmanaged<nint, long, float*, long, float*, long*, byte*, nuint, int> _search;
    private readonly delegate* unmanaged<nint, long, long*, long*, byte*, nuint, int> _remove;
    private readonly delegate* unmanaged<nint, long> _ntotal;
    private readonly delegate* unmanaged<nint, byte*, byte*, nuint, int> _write;
    private readonly delegate* unmanaged<byte*, nint*, byte*, nuint, int> _read;
    private readonly delegate* unmanaged<nint, void> _free;
    private readonly delegate* unmanaged<byte*> _distanceKernels;

    private NativeFaiss(nint library, string path)
    {
        LibraryPath = path;
        var abi = (delegate* unmanaged<int>)Export(library, "ragfaiss_abi_version");
        if (abi() != AbiVersion)
        {
            throw new InvalidOperationException(
                $"{path} is a different build of the FAISS shim (ABI {abi()}, expected {AbiVersion}); rebuild it with ./scripts/test.sh.");
        }

        _create = (delegate* unmanaged<byte*, int, int, nint*, byte*, nuint, int>)Export(library, "ragfaiss_create");
        _setHnsw = (delegate* unmanaged<nint, int, int, byte*, nuint, int>)Export(library, "ragfaiss_set_hnsw");
        _isTrained = (delegate* unmanaged<nint, int>)Export(library, "ragfaiss_is_trained");
        _train = (delegate* unmanaged<nint, long, float*, byte*, nuint, int>)Export(library, "ragfaiss_train");
        _add = (delegate* unmanaged<nint, long, float*, long*, byte*, nuint, int>)Export(library, "ragfaiss_add");
        _search = (delegate* unmanaged<nint, long, float*, long, float*, long*, byte*, nuint, int>)Export(library, "ragfaiss_search");
        _remove = (delegate* unmanaged<nint, long, long*, long*, byte*, nuint, int>)Export(library, "ragfaiss_remove");
        _ntotal = (delegate* unmanaged<nint, long>)Export(library, "ragfaiss_ntotal");
        _write = (delegate* unmanaged<nint, byte*, byte*, nuint, int>)Export(library, "ragfaiss_write");
        _read = (delegate* unmanaged<byte*, nint*, byte*, nuint, int>)Export(library, "ragfaiss_read");
        _free = (delegate* unmanaged<nint, void>)Export(library, "ragfaiss_free");
        _distanceKernels = (delegate* unmanaged<byte*>)Export(library, "ragfaiss_distance_kernels");
    }

    /// <summary>The file the entry points came from (for logs and errors).</summary>
    public string LibraryPath { get; }

    /// <summary>
    /// Loads the shim from <paramref name="configuredPath"/>, else from beside this assembly, else from the
    /// system's library path. Throws a message that says how to build it when none is found.
    /// </summary>
    public static NativeFaiss Load(string? configuredPath)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(configuredPath))
        {
            candidates.Add(configuredPath);
        }
        else
        {
            var own = Path.GetDirectoryName(typeof(NativeFaiss).Assembly.Location);
            if (!string.IsNullOrEmpty(own))
            {
                candidates.Add(Path.Combine(own, LibraryFileName));
            }

            // Last resort: the dynamic loader's own search (LD_LIBRARY_PATH, /usr/local/lib, …).
            candidates.Add(LibraryFileName);
        }

        lock (LoadLock)
        {
            var errors = new List<string>();
            foreach (var candidate in candidates)
            {
                if (Loaded.TryGetValue(candidate, out var cached))
                {
                    return cached;
                }

                var isFile = Path.IsPathFullyQualified(candidate);
                if (isFile && !File.Exists(candidate))
                {
                    errors.Add($"{candidate}: not found");
                    continue;
                }

                try
                {
                    var handle = isFile
                        ? NativeLibrary.Load(candidate)
                        : NativeLibrary.Load(candidate, typeof(NativeFaiss).Assembly, DllImportSearchPath.SafeDirectories);
                    var native = new NativeFaiss(handle, candidate);
                    Loaded[candidate] = native;
                    return native;
                }
                catch (DllNotFoundException e)
                {
                    errors.Add($"{candidate}: {e.Message}");
                }
            }

            throw new DllNotFoundException(
                $"The FAISS backend needs its native shim {LibraryFileName}, which was not found ({string.Join("; ", errors)}). " +
                "Build it with ./scripts/test.sh (it installs libfaiss-dev and runs CMake), or by hand: " +
                "apt-get install -y libfaiss-dev cmake g++ && cmake -S plugins/RagPlatform.Plugins.Faiss/native -B artifacts/native/build " +
                "&& cmake --build artifacts/native/build; then rebuild the plugin so the library is copied beside it, " +
                "or set RagPlatform:VectorStore:Backends:faiss:NativeLibraryPath to its full path.");
        }
    }

    public nint Create(string factory, int dimensions, bool l2)
    {
        var name = Utf8(factory);
        var error = stackalloc byte[ErrorBufferSize];
        nint handle;
        fixed (byte* f = name)
        {
            Check(_create(f, dimensions, l2 ? 1 : 0, &handle, error, ErrorBufferSize), error, $"create index \"{factory}\"");
        }

        return handle;
    }

    /// <summary>Sets HNSW parameters; false when the index is not HNSW.</summary>
    public bool SetHnsw(nint index, int efSearch, int efConstruction)
    {
        var error = stackalloc byte[ErrorBufferSize];
        var status = _setHnsw(index, efSearch, efConstruction, error, ErrorBufferSize);
        if (status == Unsupported)
        {
            return false;
        }

        Check(status, error, "set HNSW parameters");
        return true;
    }

    public bool IsTrained(nint index) => _isTrained(index) != 0;

    public void Train(nint index, ReadOnlySpan<float> vectors, int dimensions)
    {
        var error = stackalloc byte[ErrorBufferSize];
        fixed (float* x = vectors)
        {
            Check(_train(index, vectors.Length / dimensions, x, error, ErrorBufferSize), error, "train index");
        }
    }

    public void Add(nint index, ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids)
    {
        var error = stackalloc byte[ErrorBufferSize];
        fixed (float* x = vectors)
        fixed (long* i = ids)
        {
            Check(_add(index, ids.Length, x, i, error, ErrorBufferSize), error, "add vectors");
        }
    }

    public void Search(nint index, ReadOnlySpan<float> query, int k, Span<float> distances, Span<long> labels)
    {
        var error = stackalloc byte[ErrorBufferSize];
        fixed (float* q = query)
        fixed (float* d = distances)
        fixed (long* l = labels)
        {
            Check(_search(index, 1, q, k, d, l, error, ErrorBufferSize), error, "search");
        }
    }

    /// <summary>Removes ids from the index; null when the index type cannot remove.</summary>
    public long? Remove(nint index, ReadOnlySpan<long> ids)
    {
        var error = stackalloc byte[ErrorBufferSize];
        long removed;
        fixed (long* i = ids)
        {
            var status = _remove(index, ids.Length, i, &removed, error, ErrorBufferSize);
            if (status == Unsupported)
            {
                return null;
            }

            Check(status, error, "remove vectors");
        }

        return removed;
    }

    public long Count(nint index) => _ntotal(index);

    /// <summary>The distance kernels HNSW indexes over flat storage use on this CPU: "avx512", "avx2" or "scalar".</summary>
    public string DistanceKernels => Marshal.PtrToStringUTF8((nint)_distanceKernels()) ?? "unknown";

    public void Write(nint index, string path)
    {
        var file = Utf8(path);
        var error = stackalloc byte[ErrorBufferSize];
        fixed (byte* f = file)
        {
            Check(_write(index, f, error, ErrorBufferSize), error, $"write index {path}");
        }
    }

    public nint Read(string path)
    {
        var file = Utf8(path);
        var error = stackalloc byte[ErrorBufferSize];
        nint handle;
        fixed (byte* f = file)
        {
            Check(_read(f, &handle, error, ErrorBufferSize), error, $"read index {path}");
        }

        return handle;
    }

    public void Free(nint index)
    {
        if (index != 0)
        {
            _free(index);
        }
    }

    private static nint Export(nint library, string name) => NativeLibrary.GetExport(library, name);

    private static byte[] Utf8(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    private static void Check(int status, byte* error, string what)
    {
        if (status != Ok)
        {
            var message = Marshal.PtrToStringUTF8((nint)error) ?? "unknown error";
            throw new FaissException($"FAISS could not {what}: {message}");
        }
    }
}

/// <summary>FAISS reported an error (bad factory string, I/O failure, out of memory, …).</summary>
public sealed class FaissException(string message) : InvalidOperationException(message);
