using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI;
using OpenAI.Embeddings;
using Polly;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.OpenAI;

/// <summary>
/// Embeds through the OpenAI .NET SDK against OpenAI or any OpenAI-compatible server. The SDK only sends and
/// parses: its own retries are off, and this class owns batching (by input count and token budget), the key pool
/// and usage accounting; retries (429, 5xx, timeouts; Retry-After and rate-limit windows honoured; bounded by
/// attempts and time) are RagPlatform's one retry policy (<see cref="RemoteRetry"/>) around each request. One bad input fails alone: a request the server rejects as invalid is split in
/// halves until the offending input is found.
/// </summary>
public sealed class OpenAIEmbeddingProvider : IEmbeddingProvider, IEmbeddingProviderUsage
{
    public const string ProviderName = "openai";

    /// <summary>The fingerprint's provider: the API family, not the endpoint, so OpenAI and a gateway serving the
    /// same model under the same settings produce the same vector space and may stand in for each other.</summary>
    public const string FingerprintProvider = "openai";

    private readonly OpenAIEmbedderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ApiKeyPool _pool;
    private readonly Dictionary<ApiKeyState, EmbeddingClient> _clients = [];
    private readonly SemaphoreSlim _concurrency;
    private readonly ResiliencePipeline _retry;
    // The SDK writes each call's inputs and model into the options object it is given, so concurrent requests
    // must not share one: every request gets its own, made from this setting.
    private readonly int? _requestDimensions;
    private readonly OpenAIMetrics _metrics = new();
    private readonly string _where;
    private long _requests;
    private long _tokens;
    private long _errors;
    private long _throttled;
    private long _retries;

    /// <param name="httpClient">The client to call the service with (the host's, from <see cref="PluginContext.CreateHttpClient"/>);
    /// null: a plain one of the provider's own.</param>
    /// <param name="ownsHttpClient">Dispose <paramref name="httpClient"/> with the provider.</param>
    public OpenAIEmbeddingProvider(
        OpenAIEmbedderOptions options, ILogger? logger = null, TimeProvider? time = null, HttpClient? httpClient = null, bool ownsHttpClient = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new PluginConfigurationException(nameof(OpenAIEmbedderOptions), problems);
        }

        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _ownsHttp = httpClient is null || ownsHttpClient;
        _http = httpClient ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        if (_ownsHttp)
        {
            // Each attempt has its own limit (RequestTimeoutSeconds); the client must not cut in first.
            _http.Timeout = Timeout.InfiniteTimeSpan;
        }

        var known = KnownModels.Find(options.Model);
        var dimensions = options.Dimensions ?? known!.NativeDimensions;
        // Only text-embedding-3-* accept `dimensions`; others are refused if they get it.
        _requestDimensions = known is { AcceptsDimensions: true } && dimensions != known.NativeDimensions ? dimensions : null;
        Fingerprint = new ModelFingerprint(FingerprintProvider, options.FingerprintModel ?? options.Model, options.Revision, dimensions, "provider", options.Normalization);

        var endpoint = new Uri(options.Endpoint.TrimEnd('/'));
        _where = $"{endpoint.Scheme}://{endpoint.Authority}{endpoint.AbsolutePath}";
        _pool = new ApiKeyPool(options.ApiKeys, _time);
        foreach (var key in _pool.Keys)
        {
            var clientOptions = new OpenAIClientOptions
            {
                Endpoint = endpoint,
                // Ours are the only retries: observable, bounded and aware of the key pool.
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                Transport = new HttpClientPipelineTransport(_http),
                NetworkTimeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds) + TimeSpan.FromSeconds(30),
            };
            _clients[key] = new EmbeddingClient(options.Model, new ApiKeyCredential(key.Secret), clientOptions);
        }

        _concurrency = new SemaphoreSlim(options.MaxConcurrentRequests);
        _retry = RemoteRetry.CreatePipeline(
            options.ToRetryOptions(),
            "OpenAI",
            e => e is RetryableAttemptException { PastDeadline: false },
            e => (e as RetryableAttemptException)?.Wait,
            timeProvider: _time);
    }

    public ModelFingerprint Fingerprint { get; }

    public int MaxInputTokens => _options.MaxTokensPerInput;

    public int MaxBatchSize => _options.MaxInputsPerRequest;

    public int CountTokens(string text) => TokenEstimator.Count(text, _options.TokenCounting);

    public async Task<IReadOnlyList<EmbeddingResult>> EmbedAsync(IReadOnlyList<string> inputs, EmbeddingPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new EmbeddingResult[inputs.Count];
        var pending = new List<PendingInput>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var text = inputs[i];
            if (string.IsNullOrWhiteSpace(text))
            {
                results[i] = EmbeddingResult.Failure("The input is empty; the embeddings API refuses empty strings.");
                continue;
            }

            var tokens = CountTokens(text);
            if (tokens > _options.MaxTokensPerInput)
            {
                results[i] = EmbeddingResult.Failure(string.Create(CultureInfo.InvariantCulture,
                    $"The input counts {tokens} tokens ({_options.TokenCounting}), over the model's limit of {_options.MaxTokensPerInput} per input; chunk it smaller. Not sent."));
                continue;
            }

            pending.Add(new PendingInput(i, text, tokens));
        }

        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batches = Pack(pending).Select(async batch =>
        {
            try
            {
                await EmbedBatchAsync(batch, results, failFast.Token);
            }
            catch
            {
                // One request failed for good: the call fails, so stop spending on its siblings.
                await failFast.CancelAsync();
                throw;
            }
        }).ToList();
        try
        {
            await Task.WhenAll(batches);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A sibling's failure cancelled this one: report the failure, not the cancellation.
            throw batches.Select(b => b.Exception?.InnerException).OfType<OpenAIProviderException>().FirstOrDefault()
                ?? (Exception)new OpenAIProviderException($"{_where}: the call was abandoned.");
        }

        return results;
    }

    public ProviderUsageReport GetUsage() => new(
        _where, Interlocked.Read(ref _requests), Interlocked.Read(ref _tokens), Interlocked.Read(ref _errors),
        Interlocked.Read(ref _throttled), Interlocked.Read(ref _retries), _pool.Usage());

    public ValueTask DisposeAsync()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }

        _concurrency.Dispose();
        _metrics.Dispose();
        return ValueTask.CompletedTask;
    }

    private readonly record struct PendingInput(int Index, string Text, int Tokens);

    /// <summary>Requests of at most MaxInputsPerRequest inputs and MaxTokensPerRequest tokens, in input order.</summary>
    private List<List<PendingInput>> Pack(List<PendingInput> pending)
    {
        var batches = new List<List<PendingInput>>();
        var current = new List<PendingInput>();
        long tokens = 0;
        foreach (var input in pending)
        {
            if (current.Count > 0 && (current.Count >= _options.MaxInputsPerRequest || tokens + input.Tokens > _options.MaxTokensPerRequest))
            {
                batches.Add(current);
                current = [];
                tokens = 0;
            }

            current.Add(input);
            tokens += input.Tokens;
        }

        if (current.Count > 0)
        {
            batches.Add(current);
        }

        return batches;
    }

    private async Task EmbedBatchAsync(List<PendingInput> batch, EmbeddingResult[] results, CancellationToken cancellationToken)
    {
        var rejection = await SendAsync(batch, results, cancellationToken);
        if (rejection is null)
        {
            return;
        }

        if (batch.Count == 1)
        {
            results[batch[0].Index] = EmbeddingResult.Failure("Refused by the embeddings service: " + rejection);
            return;
        }

        // The service refused the request for one of its inputs and did not say which: halve until it is found.
        var half = batch.Count / 2;
        _logger.LogInformation("openai: a request of {Count} inputs was refused ({Reason}); retrying its halves", batch.Count, rejection);
        await EmbedBatchAsync(batch.GetRange(0, half), results, cancellationToken);
        await EmbedBatchAsync(batch.GetRange(half, batch.Count - half), results, cancellationToken);
    }

    /// <summary>
    /// Sends one request until it succeeds (results filled, returns null), is refused for its content (returns
    /// the service's reason), or fails for good (throws <see cref="OpenAIProviderException"/>). The attempts are
    /// RagPlatform's one retry policy (<see cref="RemoteRetry"/>): bounded by MaxAttempts, backing off from
    /// InitialBackoffSeconds, honouring Retry-After. A 429 pauses only its key and is retried at once: the key pool
    /// then waits for that key or hands out another, so the wait the service asked for is honoured per key.
    /// </summary>
    private async Task<string?> SendAsync(List<PendingInput> batch, EmbeddingResult[] results, CancellationToken cancellationToken)
    {
        var started = _time.GetUtcNow();
        var attempt = new AttemptState(batch, started, started + TimeSpan.FromSeconds(_options.MaxRetrySeconds));
        try
        {
            return await _retry.ExecuteAsync(token => new ValueTask<string?>(SendOnceAsync(attempt, results, token)), cancellationToken);
        }
        catch (RetryableAttemptException failure)
        {
            var elapsed = _time.GetUtcNow() - attempt.Started;
            var limit = failure.PastDeadline
                ? string.Create(CultureInfo.InvariantCulture, $" (retry time limit {_options.MaxRetrySeconds:0.#} s)")
                : "";
            throw new OpenAIProviderException(string.Create(CultureInfo.InvariantCulture,
                $"{_where} ({_options.Model}): gave up after {attempt.Count} attempts in {elapsed.TotalSeconds:0.#} s{limit}; last error: {failure.Message}"));
        }
    }

    /// <summary>One request's attempts so far.</summary>
    private sealed class AttemptState(List<PendingInput> batch, DateTimeOffset started, DateTimeOffset deadline)
    {
        public List<PendingInput> Batch { get; } = batch;

        public DateTimeOffset Started { get; } = started;

        public DateTimeOffset Deadline { get; } = deadline;

        public int Count { get; set; }

        public string? LastReason { get; set; }
    }

    /// <summary>An attempt failed in a way worth another (timeout, 429, 5xx, network, a refused key among several).</summary>
    private sealed class RetryableAttemptException(string message, TimeSpan? wait, bool pastDeadline) : Exception(message)
    {
        /// <summary>What the service asked to wait (Retry-After on a 5xx); null: the policy's back-off. Zero after a
        /// 429 or a refused key: the key pool does the waiting, per key.</summary>
        public TimeSpan? Wait { get; } = wait;

        /// <summary>The wait would end after the request's retry deadline (MaxRetrySeconds): not retried.</summary>
        public bool PastDeadline { get; } = pastDeadline;
    }

    private async Task<string?> SendOnceAsync(AttemptState attempt, EmbeddingResult[] results, CancellationToken cancellationToken)
    {
        var batch = attempt.Batch;
        attempt.Count++;
        if (attempt.LastReason is { } previous)
        {
            Interlocked.Increment(ref _retries);
            _metrics.Retries.Add(1, new KeyValuePair<string, object?>("reason", previous));
        }

        var texts = batch.Select(b => b.Text).ToList();
        var estimated = batch.Sum(b => (long)b.Tokens);

        // The slot first, then the key: a key is taken only when a request can go, so it is chosen knowing
        // every answer that came back while this request waited (a key paused meanwhile is skipped).
        await _concurrency.WaitAsync(cancellationToken);
        ApiKeyState key;
        try
        {
            key = await _pool.AcquireAsync(attempt.Deadline, cancellationToken);
        }
        catch
        {
            _concurrency.Release();
            throw;
        }

        TimeSpan? wait = null;
        string reason;
        string lastError;
        try
        {
            Interlocked.Increment(ref key.Requests);
            Interlocked.Increment(ref _requests);
            using var attemptLimit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptLimit.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
            var result = await _clients[key].GenerateEmbeddingsAsync(
                texts, new EmbeddingGenerationOptions { Dimensions = _requestDimensions }, attemptLimit.Token);
            var headers = result.GetRawResponse().Headers;
            if (RateLimitHeaders.ExhaustedWindow(name => headers.TryGetValue(name, out var v) ? v : null, estimated) is { } pause)
            {
                // Slow down before the 429: this key's window is spent until it resets.
                _pool.Pause(key, pause);
            }

            Accept(result.Value, batch, results, key);
            _metrics.Requests.Add(1, key.Tag, new("outcome", "ok"));
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            reason = "timeout";
            lastError = string.Create(CultureInfo.InvariantCulture, $"no answer within {_options.RequestTimeoutSeconds:0.#} s");
            Interlocked.Increment(ref key.Errors);
            Interlocked.Increment(ref _errors);
        }
        catch (ClientResultException ex) when (ex.Status == 429)
        {
            reason = "rate-limited";
            Interlocked.Increment(ref key.Throttled);
            Interlocked.Increment(ref _throttled);
            var retryAfter = RetryAfter(ex) ?? TimeSpan.FromSeconds(_options.DefaultRetryAfterSeconds);
            _pool.Pause(key, retryAfter);
            wait = TimeSpan.Zero;
            lastError = string.Create(CultureInfo.InvariantCulture, $"HTTP 429 (key {key.Id} paused {retryAfter.TotalSeconds:0.###} s): {ErrorMessage(ex)}");
        }
        catch (ClientResultException ex) when (ex.Status is 0 or 408 or >= 500)
        {
            reason = ex.Status == 0 ? "network" : "server-error";
            Interlocked.Increment(ref key.Errors);
            Interlocked.Increment(ref _errors);
            wait = RetryAfter(ex);
            lastError = ex.Status == 0 ? "unreachable: " + Scrub(ex.InnerException?.Message ?? ex.Message) : $"HTTP {ex.Status}: {ErrorMessage(ex)}";
        }
        catch (HttpRequestException ex)
        {
            reason = "network";
            Interlocked.Increment(ref key.Errors);
            Interlocked.Increment(ref _errors);
            lastError = "unreachable: " + Scrub(ex.Message);
        }
        catch (ClientResultException ex) when (ex.Status is 401 or 403)
        {
            // This key is refused; the others may not be.
            reason = "key-refused";
            Interlocked.Increment(ref key.Errors);
            Interlocked.Increment(ref _errors);
            key.Disabled = $"HTTP {ex.Status}: {ErrorMessage(ex)}";
            wait = TimeSpan.Zero;
            lastError = $"key {key.Id} refused with HTTP {ex.Status}";
            _logger.LogError("openai: key {KeyId} was refused by {Endpoint} with HTTP {Status}; it is no longer used", key.Id, _where, ex.Status);
        }
        catch (ClientResultException ex) when (ex.Status is 400 or 413 or 422)
        {
            Interlocked.Increment(ref key.Errors);
            Interlocked.Increment(ref _errors);
            _metrics.Requests.Add(1, key.Tag, new("outcome", "rejected"));
            var (message, aboutRequest) = ReadError(ex);
            if (aboutRequest)
            {
                // Wrong model, dimensions or format: every request would fail alike, so the call fails once.
                throw new OpenAIProviderException($"{_where} refused the request configuration (HTTP {ex.Status}): {message}", ex);
            }

            return message;
        }
        catch (ClientResultException ex)
        {
            Interlocked.Increment(ref key.Errors);
            Interlocked.Increment(ref _errors);
            _metrics.Requests.Add(1, key.Tag, new("outcome", "failed"));
            throw new OpenAIProviderException($"{_where} answered HTTP {ex.Status}: {ErrorMessage(ex)}", ex);
        }
        finally
        {
            _concurrency.Release();
        }

        _metrics.Requests.Add(1, key.Tag, new("outcome", reason));
        attempt.LastReason = reason;
        var pastDeadline = wait is { } asked && _time.GetUtcNow() + asked > attempt.Deadline;
        _logger.LogWarning("openai: attempt {Attempt} of a {Count}-input request failed ({Error})", attempt.Count, batch.Count, lastError);
        throw new RetryableAttemptException(lastError, wait, pastDeadline);
    }

    private void Accept(OpenAIEmbeddingCollection embeddings, List<PendingInput> batch, EmbeddingResult[] results, ApiKeyState key)
    {
        if (embeddings.Count != batch.Count)
        {
            throw new OpenAIProviderException($"{_where} returned {embeddings.Count} embeddings for {batch.Count} inputs.");
        }

        var billed = embeddings.Usage?.TotalTokenCount ?? 0;
        if (billed <= 0)
        {
            billed = embeddings.Usage?.InputTokenCount ?? 0;
        }

        Interlocked.Add(ref key.Tokens, billed);
        Interlocked.Add(ref _tokens, billed);
        _metrics.Tokens.Add(billed, key.Tag);

        // The service bills the request; each input gets its share by its estimated size. Shares are cut from the
        // running total, so they add up to exactly what was billed.
        var estimated = Math.Max(1, batch.Sum(b => (long)b.Tokens));
        var shares = new int[batch.Count];
        long running = 0;
        long given = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            running += batch[i].Tokens;
            var upTo = i == batch.Count - 1 ? billed : billed * running / estimated;
            shares[i] = (int)(upTo - given);
            given = upTo;
        }

        var seen = new bool[batch.Count];
        foreach (var embedding in embeddings)
        {
            var slot = embedding.Index;
            if (slot < 0 || slot >= batch.Count || seen[slot])
            {
                throw new OpenAIProviderException($"{_where} returned an embedding with index {slot} for {batch.Count} inputs.");
            }

            seen[slot] = true;
            var vector = embedding.ToFloats().ToArray();
            results[batch[slot].Index] = ToResult(vector, shares[slot]);
        }
    }

    private EmbeddingResult ToResult(float[] vector, int tokens)
    {
        if (vector.Length != Fingerprint.Dimensions)
        {
            return EmbeddingResult.Failure(string.Create(CultureInfo.InvariantCulture,
                $"The service returned {vector.Length} dimensions; {Fingerprint} has {Fingerprint.Dimensions}."));
        }

        if (_options.Normalization == "l2")
        {
            var norm = Math.Sqrt(vector.Sum(v => (double)v * v));
            if (!(norm > 0) || double.IsInfinity(norm))
            {
                return EmbeddingResult.Failure("The service returned a zero or non-finite vector.");
            }

            for (var d = 0; d < vector.Length; d++)
            {
                vector[d] = (float)(vector[d] / norm);
            }
        }

        return EmbeddingResult.Success(vector, tokens);
    }

    private TimeSpan? RetryAfter(ClientResultException ex)
    {
        var response = ex.GetRawResponse();
        return response is null ? null : RateLimitHeaders.RetryAfter(name => response.Headers.TryGetValue(name, out var v) ? v : null, _time.GetUtcNow());
    }

    private string ErrorMessage(ClientResultException ex) => ReadError(ex).Message;

    /// <summary>The service's error message (OpenAI's <c>{"error":{"message","type","param","code"}}</c>) and
    /// whether it is about the request's settings rather than one of its inputs.</summary>
    private (string Message, bool AboutRequest) ReadError(ClientResultException ex)
    {
        var response = ex.GetRawResponse();
        string? message = null;
        var aboutRequest = ex.Status == 404;
        try
        {
            if (response?.Content is { } content && content.ToMemory().Length > 0)
            {
                using var json = JsonDocument.Parse(content.ToMemory());
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.Object)
                    {
                        message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                        var param = error.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                        var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                        aboutRequest |= param is "model" or "dimensions" or "encoding_format" || code is "model_not_found";
                    }
                    else if (error.ValueKind == JsonValueKind.String)
                    {
                        // TEI and some gateways answer {"error": "...", "error_type": "..."}.
                        message = error.GetString();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall back to the status line below.
        }

        message ??= response?.ReasonPhrase is { Length: > 0 } phrase ? phrase : "no error message";
        message = Scrub(message);
        return (message.Length > 500 ? message[..500] + "…" : message, aboutRequest);
    }

    /// <summary>A service may echo a key back in an error; never let one through.</summary>
    private string Scrub(string text)
    {
        foreach (var key in _pool.Keys)
        {
            text = text.Replace(key.Secret, key.Id, StringComparison.Ordinal);
        }

        return text;
    }
}
