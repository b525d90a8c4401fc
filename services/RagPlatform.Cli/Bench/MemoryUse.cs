using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RagPlatform.Cli.Bench;

/// <summary>
/// The memory this process uses: the in-process platform a bench runs is in it, so the resident set covers the
/// vector backend (native FAISS memory included), the lexical index and the server. The managed heap is the
/// .NET part of it after a full collection.
/// </summary>
public sealed record MemoryUse(long ResidentBytes, long PeakResidentBytes, long ManagedHeapBytes)
{
    public static MemoryUse Now()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return new MemoryUse(process.WorkingSet64, process.PeakWorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), or "unknown": a shared machine's latencies depend on them.</summary>
    public static string LoadAverage()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', fields.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    public JsonObject Json() => new()
    {
        ["residentMiB"] = Mib(ResidentBytes),
        ["peakResidentMiB"] = Mib(PeakResidentBytes),
        ["managedHeapMiB"] = Mib(ManagedHeapBytes),
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"resident {Mib(ResidentBytes):N0} MiB (peak {Mib(PeakResidentBytes):N0} MiB), managed heap {Mib(ManagedHeapBytes):N0} MiB");

    private static long Mib(long bytes) => bytes / (1024 * 1024);
}
