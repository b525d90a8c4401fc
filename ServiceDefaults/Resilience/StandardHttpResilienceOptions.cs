using System.ComponentModel.DataAnnotations;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The standard resilience handler's settings. Defaults are those of Microsoft.Extensions.Http.Resilience's
/// standard handler (total 30 s, 3 retries from 2 s exponential with jitter, attempt 10 s, breaker at 10 %
/// failures of at least 100 requests in 30 s for 5 s).
/// </summary>
public sealed class StandardHttpResilienceOptions
{
    /// <summary>Whole request including every retry and wait.</summary>
    public TimeSpan TotalRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>One attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    [Range(0, 20)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First retry delay; doubled per retry, with jitter, unless the server sends Retry-After.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait a server's Retry-After may impose before the retry is abandoned (the response is returned).</summary>
    public TimeSpan MaxRetryAfterDelay { get; set; } = TimeSpan.FromSeconds(30);

    public double CircuitBreakerFailureRatio { get; set; } = 0.1;

    public int CircuitBreakerMinimumThroughput { get; set; } = 100;

    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// HttpClientFactory client names that get no handler. The OTLP exporter's clients are excluded by
    /// default: the exporter retries on its own, and telemetry must not trip the breaker of real calls.
    /// </summary>
    public IList<string> ExcludedClientNamePrefixes { get; } = ["Otlp"];
}
