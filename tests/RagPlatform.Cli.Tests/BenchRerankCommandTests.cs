using System.Reflection;
using System.Text.Json;
using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli.Tests;

/// <summary><c>rag bench rerank</c> on the committed cross-encoder fixture (the transformers.js anchor is not installed in tests).</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class BenchRerankCommandTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Reranking_searches_through_the_plugin_reports_pairs_per_second_and_latency_percentiles()
    {
        var texts = WriteTexts(Enumerable.Range(0, 30).Select(i => $"검진 전날 {i}시 이후 금식한다. 대출 금리 {i} 안내."));

        var result = await ConsoleCapture.RunJsonAsync(BenchCommand.Create([]),
            "bench", "rerank", "--model", CrossEncoder, "--texts", texts, "--requests", "3", "--candidates", "8", "--threads", "1", "--json");

        Assert.Equal(3, result.GetProperty("searches").GetInt32());
        Assert.Equal(8, result.GetProperty("candidates").GetInt32());
        Assert.True(result.GetProperty("pairsPerSecond").GetDouble() > 0);
        Assert.True(result.GetProperty("p99Ms").GetDouble() >= result.GetProperty("p50Ms").GetDouble());
        Assert.False(result.TryGetProperty("ratio", out _));
    }

    [Fact]
    public async Task An_anchor_folder_without_transformers_js_is_a_usage_error_naming_the_option()
    {
        var texts = WriteTexts(["본문"]);

        var (exit, output, error) = await ConsoleCapture.RunAsync(BenchCommand.Create([]),
            "bench", "rerank", "--model", CrossEncoder, "--texts", texts, "--anchor", _folder.Path);

        Assert.NotEqual(0, exit);
        Assert.Contains("--anchor", output + error, StringComparison.Ordinal);
        Assert.Contains("setup-anchor.sh", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public void Searches_take_their_candidates_in_turn_and_cut_their_queries_from_them()
    {
        var passages = Enumerable.Range(0, 7).Select(i => $"passage {i} with enough characters to cut a phrase from it").ToList();

        var searches = BenchRerankCommand.MakeSearches(passages, null, 3, 5);

        Assert.Equal(["passage 0", "passage 5"], [searches[0].Passages[0][..9], searches[1].Passages[0][..9]]);
        Assert.All(searches, s => Assert.Equal(5, s.Passages.Count));
        Assert.All(searches, s => Assert.Contains(s.Passages, p => p.Contains(s.Query, StringComparison.Ordinal)));
        Assert.Equal(["q1", "q2", "q1"], BenchRerankCommand.MakeSearches(passages, ["q1", "q2"], 3, 2).Select(s => s.Query));
    }

    private static string CrossEncoder => Path.Combine(
        typeof(BenchRerankCommandTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RagRepoRoot").Value!,
        "tests", "fixtures", "models", "tiny-cross-encoder");

    private string WriteTexts(IEnumerable<string> texts)
    {
        var file = Path.Combine(_folder.Path, "texts.jsonl");
        File.WriteAllLines(file, texts.Select(t => JsonSerializer.Serialize(t)));
        return file;
    }
}
