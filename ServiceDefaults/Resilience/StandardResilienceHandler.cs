using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A <see cref="DelegatingHandler"/> over a Polly pipeline: total timeout, then retry (5xx, 408, 429,
/// <see cref="HttpRequestException"/>, attempt timeouts; exponential backoff with jitter, or the server's
/// Retry-After), then a circuit breaker, then a per-attempt timeout. The same request message is sent again
/// on retry, so a request whose body cannot be sent twice (a forward-only stream) gets one attempt only.
/// </summary>
public sealed class StandardResilienceHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<bool> Repeatable = new("RagPlatform.Http.RepeatableRequest");
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public StandardResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline) => _pipeline = pipeline;

    public static ResiliencePipeline<HttpResponseMessage> CreatePipeline(StandardHttpResilienceOptions options, ILogger logger)
    {
        return new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(options.TotalRequestTimeout)
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetryAttempts),
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => new ValueTask<bool>(
                    options.MaxRetryAttempts > 0
                    && args.Context.Properties.GetValue(Repeatable, false)
                    && IsTransient(args.Outcome)
                    && (args.Outcome.Result is not { } response || RetryAfter(response) is not { } wait || wait <= options.MaxRetryAfterDelay)),
                DelayGenerator = args => new ValueTask<TimeSpan?>(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = args =>
                {
                    logger.LogWarning(
                        "HTTP attempt {Attempt} failed ({Outcome}); retrying in {DelayMs} ms",
                        args.AttemptNumber + 1,
                        args.Outcome.Exception?.GetType().Name ?? ((int)args.Outcome.Result!.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        (long)args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.CircuitBreakerFailureRatio,
                MinimumThroughput = options.CircuitBreakerMinimumThroughput,
                SamplingDuration = options.CircuitBreakerSamplingDuration,
                BreakDuration = options.CircuitBreakerBreakDuration,
                ShouldHandle = args => new ValueTask<bool>(IsTransient(args.Outcome)),
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>The delay a 429/503 (or any) response asks for through Retry-After, as a delta or a date.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>
    /// Whether the body can be serialised again for a retry: no body, buffered contents (string, bytes, form,
    /// JSON from a value), or a stream <see cref="StreamContent"/> can rewind. Anything else gets one attempt.
    /// </summary>
    public static bool IsRepeatable(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent or ReadOnlyMemoryContent or JsonContent => true,
        StreamContent => false,
        MultipartContent multipart => multipart.All(IsRepeatable),
        _ => false,
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(Repeatable, IsRepeatable(request.Content));
            return await _pipeline.ExecuteAsync(
                static (ctx, state) => new ValueTask<HttpResponseMessage>(state.Handler.SendOnceAsync(state.Request, ctx.CancellationToken)),
                context,
                (Handler: this, Request: request));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || (outcome.Result is { } response && IsTransient(response));

    private static bool IsTransient(HttpResponseMessage response) =>
        (int)response.StatusCode >= 500
        || response.StatusCode == HttpStatusCode.RequestTimeout
        || response.StatusCode == HttpStatusCode.TooManyRequests;

    private Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
