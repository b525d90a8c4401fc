using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Providers;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.OpenAI.Tests;

public sealed class EmbeddingSpendLedgerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rag-ledger-" + Guid.NewGuid().ToString("N"));

    private IOptions<RagPlatformOptions> Options(decimal limit = 0) => Microsoft.Extensions.Options.Options.Create(new RagPlatformOptions
    {
        DataDirectory = _directory,
        Embedding = new EmbeddingOptions { Budget = new EmbeddingBudgetOptions { MonthlyLimit = limit } },
    });

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Spend_survives_a_restart_and_two_processes_add_up()
    {
        using (var first = new EmbeddingSpendLedger(Options()))
        using (var second = new EmbeddingSpendLedger(Options()))
        {
            first.Record("openai", 10_000, 0.02m);
            second.Record("openai", 5_000, 0.02m);
            second.Record("gateway", 1_000, 0m);
        }

        using var restarted = new EmbeddingSpendLedger(Options());
        var month = restarted.ThisMonth();
        Assert.Equal(15_000, month["openai"].Tokens);
        Assert.Equal(0.3m, month["openai"].Cost);
        Assert.Equal(1_000, month["gateway"].Tokens);
        Assert.Equal(0.3m, restarted.SpentThisMonth);
    }

    [Fact]
    public void The_budget_refuses_paid_documents_once_spent_but_lets_queries_through_by_default()
    {
        using var ledger = new EmbeddingSpendLedger(Options(limit: 1m));
        Assert.Null(ledger.Refusal(EmbeddingPurpose.Document));

        ledger.Record("openai", 50_000, 0.02m);

        Assert.True(ledger.IsExceeded);
        Assert.Contains("monthly embedding budget of 1.00 USD is spent", ledger.Refusal(EmbeddingPurpose.Document), StringComparison.Ordinal);
        Assert.Null(ledger.Refusal(EmbeddingPurpose.Query));
    }
}
