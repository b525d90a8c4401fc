using System.CommandLine;
using System.Text.Json;
using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli.Tests;

/// <summary><c>rag bench query --log / --zipf</c>: the replayed mix and how hits and misses are told apart (no timings asserted).</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class BenchQueryReplayTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_search_log_is_replayed_in_order_and_every_repeat_is_a_result_cache_hit()
    {
        // Three distinct queries, six searches: the three repeats are served from the result cache.
        _directory.Write("searches.jsonl", string.Join('\n',
            """{"query": "대출 금리 안내"}""",
            """{"query": "대출 금리 안내"}""",
            "",
            """{"query": "축구 경기 결과", "user": "ignored"}""",
            """{"query": "대출 금리 안내"}""",
            """{"query": "건강검진 금식"}""",
            """{"query": "축구 경기 결과"}"""));

        var summary = await ConsoleCapture.RunJsonAsync(Bench, "bench", "query", "--log", Path.Combine(_directory.Path, "searches.jsonl"), "--chunks", "40", "--json");

        Assert.Equal("log", summary.GetProperty("source").GetString());
        Assert.Equal(6, summary.GetProperty("searches").GetInt32());
        Assert.Equal(3, summary.GetProperty("distinctQueries").GetInt32());
        Assert.Equal(0.5, summary.GetProperty("hitRate").GetDouble());
        Assert.Equal(3, summary.GetProperty("hits").GetProperty("count").GetInt32());
        Assert.Equal(3, summary.GetProperty("misses").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task A_log_line_without_a_query_is_reported_with_its_line_number()
    {
        _directory.Write("bad.jsonl", "{\"query\": \"금리\"}\n{\"q\": \"금리\"}\n");

        var (exit, output, error) = await ConsoleCapture.RunAsync(Bench, "bench", "query", "--log", Path.Combine(_directory.Path, "bad.jsonl"), "--chunks", "10", "--json");

        Assert.NotEqual(0, exit);
        Assert.Contains("line 2", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_zipf_mix_is_deterministic_and_favours_the_first_ranks()
    {
        var mix = BenchQueryCommand.ZipfMix(200, 5000, 1.0, 7);

        Assert.Equal(mix, BenchQueryCommand.ZipfMix(200, 5000, 1.0, 7));
        var counts = mix.GroupBy(q => q, StringComparer.Ordinal).Select(g => g.Count()).OrderDescending().ToList();
        Assert.True(counts.Count <= 200);
        // Rank 1 of Zipf(1) over 200 items has probability 1/H(200) ≈ 0.17; the tail items a few draws each.
        Assert.InRange(counts[0], 600, 1100);
        Assert.True(counts[0] > 10 * counts[^1]);
    }

    private static Command Bench => new("bench") { BenchQueryCommand.Create([]) };
}
