namespace RagPlatform.Contracts.Http;

/// <summary><c>GET /v1/providers/usage</c>: this month's embedding spend against the budget, and the live usage
/// of every metered provider this process has created (since it started), per API key. Keys appear only as
/// their redacted ids.</summary>
public sealed record ProviderUsageResponse(
    string Month,
    BudgetStatus Budget,
    IReadOnlyList<ProviderSpendEntry> Spend,
    IReadOnlyList<ProviderUsageEntry> Providers);

public sealed record BudgetStatus(decimal MonthlyLimit, string Currency, decimal Spent, bool Exceeded, string WhenExceeded);

/// <summary>This month's tokens and cost of one configured provider (persisted, all processes sharing the data directory).</summary>
public sealed record ProviderSpendEntry(string Provider, long Tokens, long Calls, decimal Cost);

public sealed record ProviderUsageEntry(
    string Name,
    string Fingerprint,
    string? Endpoint,
    long Requests,
    long Tokens,
    long Errors,
    long Throttled,
    long Retries,
    IReadOnlyList<KeyUsageEntry> Keys);

public sealed record KeyUsageEntry(string Id, long Requests, long Tokens, long Errors, long Throttled, DateTimeOffset? PausedUntil, string? Disabled);
