using System.Diagnostics;

namespace RagPlatform.Tests.Shared;

/// <summary>
/// The processes a test run started and must have stopped: every server and service of an AppHost run names the run's
/// state directory in its command line or environment, and DCP names the process it monitors (<c>--monitor &lt;pid&gt;</c>).
/// </summary>
public static class LeftoverProcesses
{
    /// <summary>
    /// Waits up to <paramref name="patience"/> for them to be gone; kills and returns those still there (empty when all
    /// stopped by themselves).
    /// </summary>
    public static async Task<IReadOnlyList<string>> KillLeftAsync(string stateDirectory, int? monitoredProcess, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var left = Process.GetProcesses()
                .Where(p => p.Id != Environment.ProcessId
                    && (Mentions(p.Id, stateDirectory) || (monitoredProcess is { } pid && Mentions(p.Id, $"--monitor\0{pid}\0"))))
                .ToList();
            if (left.Count == 0)
            {
                return [];
            }

            if (DateTime.UtcNow > deadline)
            {
                var names = left.Select(p => $"{p.Id} {p.ProcessName}").ToList();
                foreach (var process in left)
                {
                    process.Kill(entireProcessTree: true);
                }

                return names;
            }

            await Task.Delay(500);
        }
    }

    private static bool Mentions(int pid, string text)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(text, StringComparison.Ordinal)
                || File.ReadAllText($"/proc/{pid}/environ").Contains(text, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
