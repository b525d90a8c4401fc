using System.CommandLine;
using System.Text.Json;
using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli.Tests;

/// <summary><c>rag bench burst</c> on a tiny corpus: it checks the limiter's answers itself and reports through its exit code.</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class BenchBurstCommandTests
{
    [Fact]
    public async Task A_burst_over_the_noisy_keys_limit_is_refused_with_retry_after_while_the_calm_key_is_served()
    {
        var root = new RootCommand { BenchCommand.Create([]) };
        string[] args = ["bench", "burst", "--documents", "20", "--burst", "200", "--concurrency", "16", "--limit", "60", "--samples", "20", "--json"];
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        int exit;
        try
        {
            exit = await root.Parse(args).InvokeAsync();
        }
        finally
        {
            Console.SetOut(original);
        }

        Assert.True(exit == 0, $"exit {exit}: {output}");
        var result = JsonDocument.Parse(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal(200, result.GetProperty("burstRefusedWithRetryAfter").GetInt32());
        Assert.Equal(["429"], result.GetProperty("burstStatuses").EnumerateObject().Select(p => p.Name));
        Assert.Equal(20, result.GetProperty("calmBefore").GetProperty("count").GetInt32());
        Assert.Equal(0, result.GetProperty("failures").GetArrayLength());
    }

    [Fact]
    public async Task A_limit_too_small_for_the_calm_keys_own_searches_is_a_usage_error()
    {
        var root = new RootCommand { BenchCommand.Create([]) };
        var exit = await root.Parse(["bench", "burst", "--limit", "30", "--samples", "20"]).InvokeAsync();

        Assert.NotEqual(0, exit);
    }
}
