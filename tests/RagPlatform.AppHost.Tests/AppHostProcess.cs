using System.Diagnostics;
using System.Reflection;

namespace RagPlatform.AppHost.Tests;

/// <summary>The AppHost as a developer runs it: its built program, started as a process of its own.</summary>
public static class AppHostProcess
{
    public static string RepoRoot => Metadata("RepoRoot");

    /// <summary>The AppHost's built program (this test project builds it first, in the same configuration).</summary>
    public static string Program =>
        Path.Combine(RepoRoot, "AppHost", "RagPlatform.AppHost", "bin", Metadata("BuildConfiguration"), "net10.0", "RagPlatform.AppHost.dll");

    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(Program)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Runs the AppHost to completion (publishing), bounded; fails with its output when it fails.</summary>
    public static async Task<string> RunToCompletionAsync(TimeSpan limit, params string[] arguments)
    {
        using var process = Process.Start(StartInfo(arguments))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the AppHost did not finish within {limit}: {await output}{await error}");
        }

        Assert.True(process.ExitCode == 0, $"the AppHost exited {process.ExitCode}: {await output}{await error}");
        return await output;
    }

    private static string Metadata(string key) =>
        typeof(AppHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
