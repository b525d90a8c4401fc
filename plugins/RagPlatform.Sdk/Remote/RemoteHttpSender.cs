using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Sdk.Remote;

/// <summary>How a <see cref="RemoteHttpSender"/> retries: bounded attempts with exponential backoff.</summary>
public sealed record RemoteRetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay, TimeSpan MaxRetryAfter)
{
    public static readonly RemoteRetryPolicy Default = new(5, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(30));
}

/// <summary>
/// Sends requests to a remote vector service and retries what is worth retrying: 408, 429 (honouring
/// Retry-After, capped), 5xx, connection failures and timeouts — a bounded number of times with exponential
/// backoff and jitter. Other answers (2xx, 4xx) come back to the caller at once. Logs name the method and
/// path only, never headers, so the API key never reaches a log.
/// </summary>
public sealed class RemoteHttpSender
{
    private const int MaxErrorTextLength = 2000;
    private readonly HttpClient _http;
    private readonly string _service;
    private readonly RemoteRetryPolicy _policy;
    private readonly ILogger _logger;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    /// <param name="delay">Waits between attempts; tests pass one that records instead of sleeping.</param>
    public RemoteHttpSender(HttpClient http, string service, RemoteRetryPolicy policy, ILogger logger, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxAttempts, 1);
        _http = http;
        _service = service;
        _policy = policy;
        _logger = logger;
        _delay = delay ?? Task.Delay;
    }

    /// <summary>
    /// Sends the request <paramref name="createRequest"/> builds (called again for every attempt) and returns the
    /// first answer that is not retryable, or the last one when attempts run out. Throws
    /// <see cref="RemoteServiceException"/> when the last attempt got no answer at all.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        for (var attempt = 1; ; attempt++)
        {
            using var request = createRequest();
            var operation = Describe(request);
            HttpResponseMessage? response = null;
            Exception? failure = null;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                failure = e;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // HttpClient.Timeout elapsed (the caller did not cancel).
                failure = e;
            }

            if (response is not null && !IsRetryable(response.StatusCode))
            {
                return response;
            }

            if (attempt >= _policy.MaxAttempts)
            {
                if (response is not null)
                {
                    return response;
                }

                throw new RemoteServiceException(
                    $"{_service} {operation} failed after {attempt} attempt(s): {failure!.GetType().Name}: {failure.Message}",
                    statusCode: null,
                    failure);
            }

            var wait = Backoff(attempt, response);
            _logger.LogWarning(
                "{Service} {Operation} failed ({Reason}); attempt {Attempt} of {MaxAttempts}, retrying in {DelayMs} ms",
                _service,
                operation,
                response is null ? failure!.GetType().Name : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
                attempt,
                _policy.MaxAttempts,
                (long)wait.TotalMilliseconds);
            response?.Dispose();
            await _delay(wait, cancellationToken);
        }
    }

    /// <summary>Throws <see cref="RemoteServiceException"/> with the service's status and error text unless the answer is a success.</summary>
    public async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        throw await ErrorAsync(response, operation, cancellationToken);
    }

    /// <summary>The exception describing a failed answer: service, operation, status and the service's error text.</summary>
    public async Task<RemoteServiceException> ErrorAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (body.Length > MaxErrorTextLength)
        {
            body = body[..MaxErrorTextLength] + "…";
        }

        var text = new StringBuilder()
            .Append(_service).Append(' ').Append(operation).Append(" answered ")
            .Append((int)response.StatusCode).Append(' ').Append(response.ReasonPhrase ?? response.StatusCode.ToString());
        if (!string.IsNullOrWhiteSpace(body))
        {
            text.Append(": ").Append(body.Trim());
        }

        return new RemoteServiceException(text.ToString(), response.StatusCode);
    }

    private static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private TimeSpan Backoff(int attempt, HttpResponseMessage? response)
    {
        var retryAfter = response?.Headers.RetryAfter;
        if (retryAfter is not null)
        {
            var asked = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - DateTimeOffset.UtcNow : TimeSpan.Zero);
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > _policy.MaxRetryAfter ? _policy.MaxRetryAfter : asked;
        }

        var exponential = _policy.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var jittered = exponential * (0.5 + (Random.Shared.NextDouble() / 2));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, _policy.MaxDelay.TotalMilliseconds));
    }

    private static string Describe(HttpRequestMessage request) =>
        request.Method.Method + " " + (request.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath : request.RequestUri?.OriginalString.Split('?')[0]);
}
