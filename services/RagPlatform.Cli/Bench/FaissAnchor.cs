using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RagPlatform.Cli.Bench;

/// <summary>
/// Debian's python3-faiss as the anchor of <c>rag bench query --backend</c>: runs the script shipped inside this
/// assembly (Bench/faiss_anchor.py, written to the run's work directory) with <c>/usr/bin/python3</c>, the
/// interpreter Debian's package installs into, and reads the one JSON line it prints.
/// </summary>
public sealed class FaissAnchor
{
    public const string Python = "/usr/bin/python3";
    public const string InstallHint = "install it with: apt-get install -y python3-faiss (Debian's package; it runs with /usr/bin/python3)";
    private const string ScriptResource = "RagPlatform.Cli.Bench.faiss_anchor.py";

    /// <summary>The script's exit code when <c>import faiss</c> (or numpy) fails.</summary>
    private const int NotInstalled = 3;

    private readonly string _script;

    private FaissAnchor(string script, string version)
    {
        _script = script;
        Engine = version;
    }

    /// <summary>"python3-faiss 1.7.3".</summary>
    public string Engine { get; }

    /// <summary>
    /// Writes the script into <paramref name="directory"/> and checks that python3-faiss imports, before any minutes
    /// are spent on the measured side. Throws a <see cref="CliException"/> telling how to install it when it does not.
    /// </summary>
    public static async Task<FaissAnchor> PrepareAsync(string directory, CancellationToken cancellationToken)
    {
        if (!File.Exists(Python))
        {
            throw new CliException($"the python3-faiss anchor needs {Python}, which does not exist; {InstallHint}.");
        }

        var script = Path.Combine(directory, "faiss_anchor.py");
        await using (var resource = typeof(FaissAnchor).Assembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"{ScriptResource} is missing from the CLI assembly."))
        await using (var file = File.Create(script))
        {
            await resource.CopyToAsync(file, cancellationToken);
        }

        var version = await RunScriptAsync(script, ["version"], cancellationToken);
        return new FaissAnchor(script, version.GetProperty("engine").GetString() ?? "python3-faiss");
    }

    /// <summary>Single-query QPS and recall@10 of python3-faiss searching the index file the faiss plugin wrote, at this efSearch.</summary>
    public Task<JsonElement> SearchIndexFileAsync(string directory, int dimensions, string indexFile, int efSearch, CancellationToken cancellationToken) =>
        RunScriptAsync(_script, ["hnsw", directory, Text(dimensions), indexFile, Text(efSearch)], cancellationToken);

    /// <summary>IndexFlatIP on the same points: single-query QPS and recall@10, then QPS with <paramref name="batch"/> queries per call.</summary>
    public Task<JsonElement> SearchFlatAsync(string directory, int dimensions, int batch, CancellationToken cancellationToken) =>
        RunScriptAsync(_script, ["flat", directory, Text(dimensions), Text(batch)], cancellationToken);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static async Task<JsonElement> RunScriptAsync(string script, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new CliException($"{Python} could not be started.");
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            var (stdout, stderr) = (await output, await error);
            if (process.ExitCode == NotInstalled)
            {
                throw new CliException($"python3-faiss is not installed ({stderr.Trim()}); {InstallHint}.");
            }

            var lastLine = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            if (process.ExitCode != 0 || lastLine is null)
            {
                throw new CliException($"the python3-faiss anchor ({string.Join(' ', arguments.Take(1))}) failed with exit code {process.ExitCode}: " +
                    LastLines(stderr, 5));
            }

            try
            {
                using var json = JsonDocument.Parse(lastLine);
                return json.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new CliException($"the python3-faiss anchor printed no JSON line ({ex.Message}): {lastLine}");
            }
        }
        finally
        {
            // Cancelled or failed while it runs: the script must not outlive the command.
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));
}
