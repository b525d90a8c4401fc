using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;

namespace RagPlatform.Client;

/// <summary>
/// The client's retry strategy: Microsoft.Extensions.Http.Resilience's (<see cref="HttpRetryStrategyOptions"/>, exponential
/// back-off with jitter) with a delay that honours Retry-After up to <see cref="RagPlatformClientOptions.MaxRetryDelay"/>
/// (its own Retry-After handling would wait whatever the server says, an hour included), and the answers worth repeating
/// narrowed to what is safe here: 429 and 503 mean the server did not act on the call, so any
/// call is repeated; a transport failure, 502 or 504 only for calls whose repetition changes nothing (GET, PUT, DELETE).
/// </summary>
public static class RagPlatformRetry
{
    /// <summary>Set on a request whose body cannot be sent twice (a streamed file upload): it is never retried.</summary>
    public static readonly HttpRequestOptionsKey<bool> NotRepeatable = new("RagPlatform.NotRepeatable");

    public static HttpRetryStrategyOptions CreateOptions(RagPlatformClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var maxDelay = options.MaxRetryDelay;
        return new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(1, options.MaxRetries),
            Delay = options.RetryDelay,
            MaxDelay = maxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            // Set before DelayGenerator: turning it off clears the generator it installs.
            ShouldRetryAfterHeader = false,
            DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result) is { } wait ? (TimeSpan?)(wait < maxDelay ? wait : maxDelay) : null),
            ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && ShouldRetry(args.Outcome)),
        };
    }

    /// <summary>What a response's Retry-After asks for (seconds or a date), or null when it has none.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is null ? null : wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    /// <summary>A pipeline for a client made without a service container (<see cref="RagPlatformClient.Create"/>).</summary>
    public static ResiliencePipeline<HttpResponseMessage> CreatePipeline(RagPlatformClientOptions options) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(CreateOptions(options)).Build();

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome)
    {
        var request = outcome.Result?.RequestMessage;
        if (request is not null && request.Options.TryGetValue(NotRepeatable, out var notRepeatable) && notRepeatable)
        {
            return false;
        }

        if (outcome.Result is { } response)
        {
            return response.StatusCode switch
            {
                HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => true,
                HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => IsRepeatable(request?.Method),
                _ => false,
            };
        }

        // No answer at all: the call may or may not have been acted on. The request is not at hand here, so only
        // the failures that happen before a byte is sent (connection refused, DNS) are retried.
        return outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };
    }

    private static bool IsRepeatable(HttpMethod? method) =>
        method == HttpMethod.Get || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Head;
}
