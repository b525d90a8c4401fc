namespace RagPlatform.Sdk;

/// <summary>
/// Optional for an <see cref="IEmbeddingProvider"/> that calls a metered service: the host reads it for its
/// usage endpoint and status. Implementations must never put a secret (an API key) in the report.
/// </summary>
public interface IEmbeddingProviderUsage
{
    /// <summary>A snapshot of the usage since the provider was created.</summary>
    ProviderUsageReport GetUsage();
}

/// <summary>What a metered provider has spent since it was created, in total and per credential.</summary>
/// <param name="Endpoint">Where the provider sends its requests (scheme, host, port, path; never credentials).</param>
/// <param name="Credentials">One entry per configured credential, in configuration order.</param>
public sealed record ProviderUsageReport(
    string Endpoint,
    long Requests,
    long Tokens,
    long Errors,
    long Throttled,
    long Retries,
    IReadOnlyList<CredentialUsage> Credentials);

/// <summary>The usage of one credential.</summary>
/// <param name="Id">A stable, non-reversible id of the credential (e.g. a hash prefix); never the secret.</param>
/// <param name="Requests">Requests sent with it (every attempt counts).</param>
/// <param name="Tokens">Tokens the service billed to it.</param>
/// <param name="Errors">Failed requests other than rate limits (5xx, timeouts, rejections).</param>
/// <param name="Throttled">Rate-limit answers (HTTP 429).</param>
/// <param name="PausedUntil">When set and in the future, the credential is not used until then (a Retry-After
/// or an exhausted rate-limit window).</param>
/// <param name="Disabled">Why the credential is no longer used (the service refused it), or null.</param>
public sealed record CredentialUsage(
    string Id,
    long Requests,
    long Tokens,
    long Errors,
    long Throttled,
    DateTimeOffset? PausedUntil,
    string? Disabled);
