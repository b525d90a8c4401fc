using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Hosting;
using RagPlatform.Core.Plugins;
using RagPlatform.Core.Providers;
using RagPlatform.Sdk;

namespace RagPlatform.Embedding;

public static class ProviderUsageApi
{
    /// <summary><c>GET /v1/providers/usage</c>: spend against the budget and per-key usage of metered providers.</summary>
    public static IEndpointRouteBuilder MapProviderUsageApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/providers/usage", GetUsage)
            .WithName("GetProviderUsage")
            .WithSummary("Embedding spend against the monthly budget, and per-key usage of metered providers (admin)")
            .WithTags("Providers")
            .ProducesKeyProblems();
        return app;
    }

    public static Ok<ProviderUsageResponse> GetUsage(PluginHost plugins, EmbeddingSpendLedger spend) => TypedResults.Ok(Report(plugins, spend));

    public static ProviderUsageResponse Report(PluginHost plugins, EmbeddingSpendLedger spend)
    {
        var budget = spend.Budget;
        var providers = plugins.CreatedEmbeddingProviders.Select(p =>
        {
            var usage = (p.Provider as IEmbeddingProviderUsage)?.GetUsage();
            return new ProviderUsageEntry(
                p.Name, p.Provider.Fingerprint.ToString(), usage?.Endpoint,
                usage?.Requests ?? 0, usage?.Tokens ?? 0, usage?.Errors ?? 0, usage?.Throttled ?? 0, usage?.Retries ?? 0,
                usage?.Credentials.Select(k => new KeyUsageEntry(k.Id, k.Requests, k.Tokens, k.Errors, k.Throttled, k.PausedUntil, k.Disabled)).ToList() ?? []);
        }).ToList();
        var month = spend.ThisMonth();
        return new ProviderUsageResponse(
            spend.CurrentMonth,
            new BudgetStatus(budget.MonthlyLimit, budget.Currency, month.Values.Sum(s => s.Cost), spend.IsExceeded, budget.WhenExceeded.ToString()),
            month.OrderBy(s => s.Key, StringComparer.OrdinalIgnoreCase).Select(s => new ProviderSpendEntry(s.Key, s.Value.Tokens, s.Value.Calls, s.Value.Cost)).ToList(),
            providers);
    }
}
