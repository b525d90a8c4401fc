using Microsoft.Extensions.Http.Resilience;
using Polly;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Client;

/// <summary>
/// The client's retries are RagPlatform's one retry policy (<see cref="RemoteRetry"/>: Polly's retry strategy, bounded,
/// Retry-After honoured up to <see cref="RagPlatformClientOptions.MaxRetryDelay"/>, only what is safe to repeat), set
/// from the client's options. This class only maps those options; it decides nothing of its own.
/// </summary>
public static class RagPlatformRetry
{
    /// <summary>Set on a request whose body cannot be sent twice (a streamed file upload): it is never retried.</summary>
    public static HttpRequestOptionsKey<bool> NotRepeatable => RemoteRetry.NotRepeatable;

    /// <summary>The client's options as the retry policy's: MaxRetries retries after the first attempt.</summary>
    public static RemoteRetryOptions ToRetryOptions(RagPlatformClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RemoteRetryOptions
        {
            MaxAttempts = options.MaxRetries + 1,
            BaseDelay = options.RetryDelay,
            MaxDelay = options.MaxRetryDelay,
        };
    }

    public static HttpRetryStrategyOptions CreateOptions(RagPlatformClientOptions options) =>
        RemoteRetry.CreateHttpOptions(ToRetryOptions(options), "RagPlatform.Client");

    /// <summary>What a response's Retry-After asks for (seconds or a date), or null when it has none.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response) => RemoteRetry.RetryAfter(response);

    /// <summary>A pipeline for a client made without a service container (<see cref="RagPlatformClient.Create"/>).</summary>
    public static ResiliencePipeline<HttpResponseMessage> CreatePipeline(RagPlatformClientOptions options) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(CreateOptions(options)).Build();
}
