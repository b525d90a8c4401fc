using System.Runtime.InteropServices;
using System.Text;

namespace RagPlatform.Plugins.Onnx.Interop;

/// <summary>
/// ONNX Runtime loaded from one native library file: its verified API table and the process's one OrtEnv.
/// Loaded once per file and kept for the life of the process (ORT's environment must outlive every session,
/// and a native library is never unloaded while code from it may run).
/// </summary>
/// <remarks>
/// The library is opened with <see cref="NativeLibrary.Load(string)"/> from a full path and every entry is
/// reached through function pointers, so finding it does not depend on the load context the plugin runs in
/// (the host's PluginLoadContext, a test runner, the CLI).
/// </remarks>
internal sealed unsafe class OrtRuntime
{
    public const string LibraryFileName = "libonnxruntime.so.1";
    public const string SupportedVersion = "1.30.0";

    private const int LoggingLevelError = 3;
    private const int ProbeCode = (int)OrtErrorCode.InvalidArgument;
    private const string ProbeMessage = "ragplatform api table probe";

    private static readonly Lock LoadLock = new();
    private static readonly Dictionary<string, OrtRuntime> Loaded = new(StringComparer.Ordinal);

    private OrtRuntime(string libraryPath, string version, OrtApi api, nint environment)
    {
        LibraryPath = libraryPath;
        Version = version;
        Api = api;
        Environment = environment;
    }

    /// <summary>The file the runtime was loaded from.</summary>
    public string LibraryPath { get; }

    /// <summary>ORT's own version string (e.g. "1.30.0").</summary>
    public string Version { get; }

    public OrtApi Api { get; }

    /// <summary>The process's OrtEnv for this library (never released: sessions of any provider may use it).</summary>
    public nint Environment { get; }

    /// <summary>
    /// Where the library is looked for, in order: <paramref name="configuredPath"/>; a Microsoft.ML.OnnxRuntime
    /// package folder (runtimes/linux-x64/native) in the NuGet cache; beside this assembly; the cache
    /// scripts/setup/30-onnxruntime.sh fills (~/.cache/ragplatform/onnxruntime-1.30.0/); the repository's
    /// artifacts/native/ above the working directory.
    /// </summary>
    public static IReadOnlyList<string> CandidatePaths(string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            return [Path.GetFullPath(configuredPath)];
        }

        var candidates = new List<string>();
        var nugetRoot = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrWhiteSpace(nugetRoot))
        {
            nugetRoot = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }

        var package = Path.Combine(nugetRoot, "microsoft.ml.onnxruntime");
        if (Directory.Exists(package))
        {
            // Newest version first; the .so inside is named libonnxruntime.so.
            foreach (var version in Directory.EnumerateDirectories(package).OrderByDescending(Path.GetFileName, StringComparer.Ordinal))
            {
                candidates.Add(Path.Combine(version, "runtimes", "linux-x64", "native", "libonnxruntime.so"));
            }
        }

        var own = Path.GetDirectoryName(typeof(OrtRuntime).Assembly.Location);
        if (!string.IsNullOrEmpty(own))
        {
            candidates.Add(Path.Combine(own, LibraryFileName));
        }

        var cache = System.Environment.GetEnvironmentVariable("RAGPLATFORM_CACHE");
        if (string.IsNullOrWhiteSpace(cache))
        {
            cache = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache", "ragplatform");
        }

        candidates.Add(Path.Combine(cache, $"onnxruntime-{SupportedVersion}", LibraryFileName));
        for (var directory = new DirectoryInfo(System.Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            var artifact = Path.Combine(directory.FullName, "artifacts", "native", LibraryFileName);
            if (File.Exists(artifact))
            {
                candidates.Add(artifact);
                break;
            }
        }

        return candidates;
    }

    /// <summary>Loads (once per file) and verifies ONNX Runtime; the message of a failure names every place looked at.</summary>
    public static OrtRuntime Load(string? configuredPath)
    {
        var candidates = CandidatePaths(configuredPath);
        lock (LoadLock)
        {
            var errors = new List<string>();
            foreach (var candidate in candidates)
            {
                if (Loaded.TryGetValue(candidate, out var cached))
                {
                    return cached;
                }

                if (!File.Exists(candidate))
                {
                    errors.Add($"{candidate}: not found");
                    continue;
                }

                nint library;
                try
                {
                    library = NativeLibrary.Load(candidate);
                }
                catch (DllNotFoundException e)
                {
                    errors.Add($"{candidate}: {e.Message}");
                    continue;
                }

                var runtime = Open(library, candidate);
                Loaded[candidate] = runtime;
                return runtime;
            }

            throw new DllNotFoundException(
                $"The onnx embedding provider needs ONNX Runtime {SupportedVersion} ({LibraryFileName}), which was not found " +
                $"({string.Join("; ", errors)}). Run scripts/setup/30-onnxruntime.sh (it packs onnxruntime-node@{SupportedVersion} from npm " +
                "into ~/.cache/ragplatform), or set RagPlatform:Embedding:Providers:onnx:NativeLibraryPath to the library's full path.");
        }
    }

    /// <summary>Reads the API table and proves its layout with a status round trip before anything relies on it.</summary>
    private static OrtRuntime Open(nint library, string path)
    {
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBaseExport))
        {
            throw new InvalidOperationException($"{path} is not ONNX Runtime: it has no OrtGetApiBase export.");
        }

        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        var apiBase = (nint*)((delegate* unmanaged<nint>)getApiBaseExport)();
        var getApi = (delegate* unmanaged<uint, nint>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "unknown";
        var table = getApi(OrtApi.ApiVersion);
        if (table == 0)
        {
            throw new InvalidOperationException(
                $"{path} is ONNX Runtime {version}, which does not offer C API version {OrtApi.ApiVersion}; use ONNX Runtime {SupportedVersion} or newer.");
        }

        var api = new OrtApi(table);
        Probe(api, path, version);

        nint environment;
        var logId = "ragplatform"u8;
        fixed (byte* id = logId)
        {
            api.Check(api.CreateEnv(LoggingLevelError, id, &environment), "create its environment");
        }

        return new OrtRuntime(path, version, api, environment);
    }

    /// <summary>
    /// CreateStatus, GetErrorCode, GetErrorMessage and ReleaseStatus must give back what went in: a table read
    /// at the wrong offsets (another API version, not ORT at all) fails here instead of crashing later.
    /// </summary>
    private static void Probe(OrtApi api, string path, string version)
    {
        var message = Encoding.UTF8.GetBytes(ProbeMessage + "\0");
        nint status;
        fixed (byte* text = message)
        {
            status = api.CreateStatus(ProbeCode, text);
        }

        if (status == 0)
        {
            throw new InvalidOperationException($"{path} (ONNX Runtime {version}): the API table check failed (CreateStatus returned null).");
        }

        try
        {
            var code = api.GetErrorCode(status);
            var echoed = Marshal.PtrToStringUTF8((nint)api.GetErrorMessage(status));
            if (code != ProbeCode || echoed != ProbeMessage)
            {
                throw new InvalidOperationException(
                    $"{path} (ONNX Runtime {version}): the API table check failed (status round trip gave {code}, '{echoed}').");
            }
        }
        finally
        {
            api.ReleaseStatus(status);
        }
    }
}
