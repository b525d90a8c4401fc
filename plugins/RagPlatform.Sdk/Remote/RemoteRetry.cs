using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace RagPlatform.Sdk.Remote;

/// <summary>
/// The one retry policy of every remote call RagPlatform makes (the HTTP API client, the index owner's client, the
/// Pinecone, Qdrant and OpenAI plugins, the model hub): Polly's retry strategy through
/// Microsoft.Extensions.Http.Resilience's <see cref="HttpRetryStrategyOptions"/>, with
/// <list type="bullet">
/// <item>bounded attempts (<see cref="RemoteRetryOptions.MaxAttempts"/>), exponential back-off with jitter from
/// <see cref="RemoteRetryOptions.BaseDelay"/>, never longer than <see cref="RemoteRetryOptions.MaxDelay"/>;</item>
/// <item>Retry-After honoured (seconds or a date) up to <see cref="RemoteRetryOptions.MaxDelay"/> (the library's own
/// handling would wait whatever the server asks, an hour included);</item>
/// <item>only what is safe to repeat: 429 and 503 mean the service did not act on the call, so any call is repeated;
/// 408, other 5xx, timeouts and transport failures only for calls whose repetition changes nothing (GET, HEAD, PUT,
/// DELETE, OPTIONS, or a call marked <see cref="Repeatable"/>, such as an upsert by id); a call marked
/// <see cref="NotRepeatable"/> (a streamed upload) never;</item>
/// <item>cancellation by the caller stops the retries at once (Polly does not retry a cancelled call).</item>
/// </list>
/// Every retry is counted on the <see cref="MeterName"/> meter, tagged with the call site's service name, and logged
/// without headers (an API key never reaches a log).
/// </summary>
public static class RemoteRetry
{
    /// <summary>The meter every retry is counted on (<c>ragplatform.remote.retries</c>, tagged <c>service</c>).</summary>
    public const string MeterName = "RagPlatform.Remote";

    /// <summary>The name of the resilience handler an <see cref="IHttpClientFactory"/> client gets the policy through.</summary>
    public const string HandlerName = "ragplatform-retry";

    /// <summary>Set on a request whose body cannot be sent twice (a streamed file upload): it is never retried.</summary>
    public static readonly HttpRequestOptionsKey<bool> NotRepeatable = new("RagPlatform.NotRepeatable");

    /// <summary>Set on a POST or PATCH whose repetition changes nothing (an upsert or delete by id): it is retried as a PUT is.</summary>
    public static readonly HttpRequestOptionsKey<bool> Repeatable = new("RagPlatform.Repeatable");

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "ragplatform.remote.retries", "{retry}", "Remote calls sent again after a retryable failure, by service.");

    /// <summary>
    /// The retry strategy for an HTTP call site: for <c>AddResilienceHandler</c> on an <see cref="IHttpClientFactory"/>
    /// client, or for <see cref="CreateHttpPipeline"/>.
    /// </summary>
    /// <param name="service">The call site's name, for the retry counter and the log (e.g. "Pinecone").</param>
    public static HttpRetryStrategyOptions CreateHttpOptions(RemoteRetryOptions options, string service, ILogger? logger = null)
    {
        ThrowIfInvalid(options);
        var maxDelay = options.MaxDelay;
        var strategy = Bounded<HttpRetryStrategyOptions, HttpResponseMessage>(new HttpRetryStrategyOptions
        {
            // Set before DelayGenerator: turning it off clears the generator the library installs.
            ShouldRetryAfterHeader = false,
            DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result) is { } wait ? (TimeSpan?)Cap(wait, maxDelay) : null),
            ShouldHandle = args => ValueTask.FromResult(options.MaxAttempts > 1 && ShouldRetry(args.Outcome, args.Context.GetRequestMessage())),
            OnRetry = args =>
            {
                Count(service, logger, args.AttemptNumber + 1, options.MaxAttempts, args.RetryDelay,
                    args.Outcome.Result is { } response ? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name);
                return default;
            },
        }, options);
        return strategy;
    }

    /// <summary>
    /// A pipeline for HTTP calls made without an <see cref="IHttpClientFactory"/> handler: run each attempt through
    /// <see cref="SendAsync"/> so the strategy sees the request (its method and marks).
    /// </summary>
    /// <param name="timeProvider">The clock the waits run on; tests pass one that records them.</param>
    public static ResiliencePipeline<HttpResponseMessage> CreateHttpPipeline(
        RemoteRetryOptions options, string service, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }

        return builder.AddRetry(CreateHttpOptions(options, service, logger)).Build();
    }

    /// <summary>
    /// Sends the request <paramref name="createRequest"/> builds (called again for every attempt) through
    /// <paramref name="pipeline"/>; returns the first answer not worth repeating, or the last one when attempts run out.
    /// A transport failure of the last attempt propagates (<see cref="HttpRequestException"/>, or
    /// <see cref="TaskCanceledException"/> for a timeout).
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(
        this ResiliencePipeline<HttpResponseMessage> pipeline,
        HttpClient http,
        Func<HttpRequestMessage> createRequest,
        HttpCompletionOption completion,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(createRequest);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) =>
                {
                    var request = state.createRequest();
                    ctx.SetRequestMessage(request);
                    return await state.http.SendAsync(request, state.completion, ctx.CancellationToken).ConfigureAwait(false);
                },
                context,
                (http, createRequest, completion)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// The retry strategy for a call site whose failures are exceptions rather than answers (a gRPC call, an SDK that
    /// throws): the same bounds, back-off and Retry-After cap as the HTTP one.
    /// </summary>
    /// <param name="isTransient">Whether a failure is worth another attempt (the call site knows what is safe to repeat).</param>
    /// <param name="retryAfter">What the failure asks to wait (a Retry-After header or a rate window), or null for the back-off.</param>
    public static RetryStrategyOptions CreateOptions(
        RemoteRetryOptions options, string service, Func<Exception, bool> isTransient, Func<Exception, TimeSpan?>? retryAfter = null, ILogger? logger = null)
    {
        ThrowIfInvalid(options);
        ArgumentNullException.ThrowIfNull(isTransient);
        var maxDelay = options.MaxDelay;
        return Bounded<RetryStrategyOptions, object>(new RetryStrategyOptions
        {
            DelayGenerator = args => ValueTask.FromResult(
                args.Outcome.Exception is { } e && retryAfter?.Invoke(e) is { } wait ? (TimeSpan?)Cap(wait, maxDelay) : null),
            ShouldHandle = args => ValueTask.FromResult(
                options.MaxAttempts > 1 && args.Outcome.Exception is { } e && isTransient(e)),
            OnRetry = args =>
            {
                Count(service, logger, args.AttemptNumber + 1, options.MaxAttempts, args.RetryDelay, args.Outcome.Exception?.GetType().Name);
                return default;
            },
        }, options);
    }

    /// <summary>A pipeline of <see cref="CreateOptions"/>.</summary>
    public static ResiliencePipeline CreatePipeline(
        RemoteRetryOptions options, string service, Func<Exception, bool> isTransient, Func<Exception, TimeSpan?>? retryAfter = null,
        ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        var builder = new ResiliencePipelineBuilder();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }

        return builder.AddRetry(CreateOptions(options, service, isTransient, retryAfter, logger)).Build();
    }

    /// <summary>Whether an answer says the service did not act on the call and it may simply be sent again (429, 503).</summary>
    public static bool IsThrottledOrUnavailable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable;

    /// <summary>Whether an answer is a transient failure (408, 429, 5xx but 501 and 505), worth repeating if the call may be.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        || ((int)status >= 500 && status is not (HttpStatusCode.NotImplemented or HttpStatusCode.HttpVersionNotSupported));

    /// <summary>Whether sending <paramref name="request"/> twice changes nothing: an idempotent method or a <see cref="Repeatable"/> mark.</summary>
    public static bool IsRepeatable(HttpRequestMessage? request)
    {
        if (request is null)
        {
            return false;
        }

        if (request.Options.TryGetValue(NotRepeatable, out var never) && never)
        {
            return false;
        }

        if (request.Options.TryGetValue(Repeatable, out var marked) && marked)
        {
            return true;
        }

        var method = request.Method;
        return method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Put
            || method == HttpMethod.Delete || method == HttpMethod.Options;
    }

    /// <summary>What a response's Retry-After asks for (seconds or a date; never negative), or null when it has none.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is null ? null : wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    /// <summary>The decision for an HTTP attempt's outcome (see the class summary).</summary>
    public static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request)
    {
        request ??= outcome.Result?.RequestMessage;
        if (request is not null && request.Options.TryGetValue(NotRepeatable, out var never) && never)
        {
            return false;
        }

        if (outcome.Result is { } response)
        {
            return IsThrottledOrUnavailable(response.StatusCode) || (IsTransient(response.StatusCode) && IsRepeatable(request));
        }

        return outcome.Exception switch
        {
            // Refused before a byte was sent: nothing was acted on.
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } => true,
            // Failed mid-way or timed out (HttpClient.Timeout, an attempt timeout): the call may have been acted on.
            HttpRequestException or Polly.Timeout.TimeoutRejectedException => IsRepeatable(request),
            // A timeout of the attempt (HttpClient.Timeout, a stall limit); a cancellation by the caller never gets here
            // as a retry: Polly returns at once when the call's own token is cancelled.
            OperationCanceledException => IsRepeatable(request),
            _ => false,
        };
    }

    /// <summary>The bounds and back-off every strategy of the policy has.</summary>
    private static T Bounded<T, TResult>(T strategy, RemoteRetryOptions options)
        where T : RetryStrategyOptions<TResult>
    {
        strategy.Name = "RagPlatform.RemoteRetry";
        // Polly needs at least one retry; MaxAttempts = 1 is honoured by ShouldHandle.
        strategy.MaxRetryAttempts = Math.Max(1, options.MaxAttempts - 1);
        strategy.Delay = options.BaseDelay;
        strategy.MaxDelay = options.MaxDelay;
        strategy.BackoffType = DelayBackoffType.Exponential;
        strategy.UseJitter = true;
        return strategy;
    }

    private static TimeSpan Cap(TimeSpan wait, TimeSpan max) => wait < max ? wait : max;

    private static void Count(string service, ILogger? logger, int failedAttempt, int maxAttempts, TimeSpan delay, string? reason)
    {
        Retries.Add(1, new KeyValuePair<string, object?>("service", service));
        logger?.LogWarning(
            "{Service}: attempt {Attempt} of {MaxAttempts} failed ({Reason}); retrying in {DelayMs} ms",
            service, failedAttempt, maxAttempts, reason ?? "unknown", (long)delay.TotalMilliseconds);
    }

    private static void ThrowIfInvalid(RemoteRetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid retry settings: " + string.Join(" ", problems), nameof(options));
        }
    }
}
