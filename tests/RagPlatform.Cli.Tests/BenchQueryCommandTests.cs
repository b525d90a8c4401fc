using System.CommandLine;
using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli.Tests;

/// <summary><c>rag bench query</c> on the query path: what the result says was measured (no timings asserted).</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class BenchQueryCommandTests
{
    [Fact]
    public async Task The_result_names_the_vector_backend_and_the_vector_space_the_settings_chose()
    {
        // Settings passed through to the platform (here 64 dimensions) change what is measured: the result must say so.
        var bench = new Command("bench") { BenchQueryCommand.Create(["--RagPlatform:Embedding:Providers:hashing:Dimensions=64"]) };

        var summary = await ConsoleCapture.RunJsonAsync(bench, "bench", "query", "--chunks", "40", "--queries", "4", "--clients", "2", "--json");

        Assert.Equal("embedded", summary.GetProperty("vectorBackend").GetString());
        Assert.Contains("dim=64", summary.GetProperty("modelFingerprint").GetString(), StringComparison.Ordinal);
        Assert.Equal(["dense", "lexical", "hybrid"], summary.GetProperty("modes").EnumerateObject().Select(m => m.Name));
    }
}
