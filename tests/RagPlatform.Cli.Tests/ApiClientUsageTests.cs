using System.Reflection;
using System.Text.RegularExpressions;

namespace RagPlatform.Cli.Tests;

/// <summary>The CLI's calls to the platform's HTTP API go through RagPlatform.Client only: no second client grows back.</summary>
public sealed partial class ApiClientUsageTests
{
    [Fact]
    public void The_cli_makes_no_http_calls_of_its_own()
    {
        var root = typeof(ApiClientUsageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RagRepoRoot").Value!;
        var sources = Directory.EnumerateFiles(Path.Combine(root, "services", "RagPlatform.Cli"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

        var offenders = sources
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(root, f), Line: i + 1, Text: line)))
            .Where(l => HttpUse().IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        Assert.True(offenders.Count == 0, "HTTP calls outside RagPlatform.Client:\n" + string.Join('\n', offenders));
        Assert.False(Directory.Exists(Path.Combine(root, "services", "RagPlatform.Cli", "Client")), "the CLI's own Client/ folder is back");
    }

    [GeneratedRegex(@"\bnew HttpClient\b|\bHttpClient\s+\w+\s*[=;,)]|\.(Get|Post|Put|Delete|Send)(AsJson)?Async\(\s*\$?""(/?v1/|/?health)|HttpRequestMessage\(")]
    private static partial Regex HttpUse();
}
