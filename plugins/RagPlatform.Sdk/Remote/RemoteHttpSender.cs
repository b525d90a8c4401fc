using System.Text;
using Microsoft.Extensions.Logging;
using Polly;

namespace RagPlatform.Sdk.Remote;

/// <summary>
/// Sends requests to a remote vector service through the one retry policy (<see cref="RemoteRetry"/>): 429 and 503
/// (honouring Retry-After, capped), 408, 5xx, connection failures and timeouts are retried a bounded number of times
/// with exponential back-off and jitter. Every call of a vector service is safe to repeat (upserts and deletes by id,
/// queries, reads), so requests are marked <see cref="RemoteRetry.Repeatable"/> unless the caller marked one
/// <see cref="RemoteRetry.NotRepeatable"/>. Other answers (2xx, 4xx) come back to the caller at once. Logs name the
/// service only, never headers, so the API key never reaches a log.
/// </summary>
public sealed class RemoteHttpSender
{
    private const int MaxErrorTextLength = 2000;
    private readonly HttpClient _http;
    private readonly string _service;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    /// <param name="timeProvider">The clock the waits between attempts run on; tests pass one that records them.</param>
    public RemoteHttpSender(HttpClient http, string service, RemoteRetryOptions retry, ILogger logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _service = service;
        _retry = RemoteRetry.CreateHttpPipeline(retry, service, logger, timeProvider);
    }

    /// <summary>
    /// Sends the request <paramref name="createRequest"/> builds (called again for every attempt) and returns the
    /// first answer that is not retryable, or the last one when attempts run out. Throws
    /// <see cref="RemoteServiceException"/> when the last attempt got no answer at all.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        string operation = "call";
        try
        {
            return await _retry.SendAsync(
                _http,
                () =>
                {
                    var request = createRequest();
                    if (!request.Options.TryGetValue(RemoteRetry.NotRepeatable, out var never) || !never)
                    {
                        request.Options.Set(RemoteRetry.Repeatable, true);
                    }

                    operation = Describe(request);
                    return request;
                },
                HttpCompletionOption.ResponseContentRead,
                cancellationToken);
        }
        catch (Exception failure) when (failure is HttpRequestException || (failure is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new RemoteServiceException(
                $"{_service} {operation} failed: {failure.GetType().Name}: {failure.Message}",
                statusCode: null,
                failure);
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

    private static string Describe(HttpRequestMessage request) =>
        request.Method.Method + " " + (request.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath : request.RequestUri?.OriginalString.Split('?')[0]);
}
