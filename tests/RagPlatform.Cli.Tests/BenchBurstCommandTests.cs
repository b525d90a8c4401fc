using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli.Tests;

/// <summary><c>rag bench burst</c> on a tiny corpus: it checks the limiter's answers itself and reports through its exit code.</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class BenchBurstCommandTests
{
    [Fact]
    public async Task A_burst_over_the_noisy_keys_limit_is_refused_with_retry_after_while_the_calm_key_is_served()
    {
        var result = await ConsoleCapture.RunJsonAsync(BenchCommand.Create([]),
            "bench", "burst", "--documents", "20", "--burst", "200", "--concurrency", "16", "--limit", "60", "--samples", "20", "--json");

        Assert.Equal(200, result.GetProperty("burstRefusedWithRetryAfter").GetInt32());
        Assert.Equal(["429"], result.GetProperty("burstStatuses").EnumerateObject().Select(p => p.Name));
        Assert.Equal(20, result.GetProperty("calmBefore").GetProperty("count").GetInt32());
        Assert.Equal(0, result.GetProperty("failures").GetArrayLength());
    }

    [Fact]
    public async Task A_limit_too_small_for_the_calm_keys_own_searches_is_a_usage_error()
    {
        var (exit, output, error) = await ConsoleCapture.RunAsync(BenchCommand.Create([]), "bench", "burst", "--limit", "30", "--samples", "20");

        Assert.NotEqual(0, exit);
        Assert.Contains("--limit must be at least", output + error, StringComparison.Ordinal);
    }
}
