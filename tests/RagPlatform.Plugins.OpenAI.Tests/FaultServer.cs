using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Plugins.OpenAI.Tests;

/// <summary>One request as the fault server saw it.</summary>
public sealed record ServedRequest(string Key, DateTimeOffset At, int Status, IReadOnlyList<string> Inputs, int? Dimensions, string? EncodingFormat, string Model);

/// <summary>
/// A loopback OpenAI-compatible embeddings server (Kestrel on 127.0.0.1, a free port) implementing
/// <c>POST /v1/embeddings</c> as OpenAI documents it — <c>input</c> a string or an array of strings, <c>model</c>,
/// <c>dimensions</c>, <c>encoding_format</c> (<c>float</c> or <c>base64</c>); the answer <c>{"object":"list",
/// "data":[{"object":"embedding","index","embedding"}],"model","usage":{"prompt_tokens","total_tokens"}}</c>;
/// errors as <c>{"error":{"message","type","param","code"}}</c> — and injecting the faults a test asks for.
/// Vectors are a deterministic function of the text (a seeded pseudo-random unit vector).
/// </summary>
public sealed class FaultServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ServedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _blockedUntil = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<string, int> _embedded = new(StringComparer.Ordinal);
    private long _count;

    private FaultServer(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The endpoint setting for the provider: <c>http://127.0.0.1:port/v1</c>.</summary>
    public string Endpoint => new Uri(BaseUrl, "v1").ToString();

    /// <summary>Dimensions when the request names none.</summary>
    public int DefaultDimensions { get; set; } = 64;

    /// <summary>Keys that always answer 429 with <see cref="ThrottleRetryAfter"/>.</summary>
    public HashSet<string> AlwaysThrottledKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Keys answered 401.</summary>
    public HashSet<string> RefusedKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Every Nth request (counted over all requests) answers 429; 0 never.</summary>
    public int ThrottleEvery { get; set; }

    public TimeSpan ThrottleRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How the Retry-After is written: "seconds", "ms" (retry-after-ms) or "date".</summary>
    public string RetryAfterStyle { get; set; } = "seconds";

    /// <summary>Every Nth request answers 500; 0 never.</summary>
    public int FailEvery { get; set; }

    /// <summary>Every request answers 500 (a dead provider).</summary>
    public bool AlwaysFail { get; set; }

    /// <summary>Every Nth request stalls for <see cref="StallFor"/> before answering; 0 never.</summary>
    public int StallEvery { get; set; }

    public TimeSpan StallFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A request with an input containing this text is refused with 400, as OpenAI refuses an
    /// over-long input: the message does not say which input.</summary>
    public string? PoisonMarker { get; set; }

    /// <summary>Answer the model as unknown (404 model_not_found).</summary>
    public bool UnknownModel { get; set; }

    /// <summary>When set, each success carries <c>x-ratelimit-remaining-requests: 0</c> and this reset.</summary>
    public TimeSpan? ExhaustRequestWindowFor { get; set; }

    /// <summary>Requests seen, in arrival order.</summary>
    public IReadOnlyList<ServedRequest> Requests => _requests.ToList();

    /// <summary>Requests that arrived on a key before the Retry-After (or window reset) the server had given it.</summary>
    public IReadOnlyList<string> Violations => _violations.ToList();

    /// <summary>How many times each text got a vector back in a 200 answer.</summary>
    public IReadOnlyDictionary<string, int> EmbeddedTexts => _embedded;

    public static async Task<FaultServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FaultServer(app);
        app.MapPost("/v1/embeddings", server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return server;
    }

    /// <summary>The vector the server gives a text at a size: tests compare against it.</summary>
    public static float[] VectorFor(string text, int dimensions)
    {
        var seed = BinaryPrimitives.ReadInt32LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var random = new Random(seed);
        var vector = new float[dimensions];
        var norm = 0.0;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
            norm += vector[i] * vector[i];
        }

        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(vector[i] / Math.Sqrt(norm));
        }

        return vector;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var now = DateTimeOffset.UtcNow;
        var number = Interlocked.Increment(ref _count);
        var auth = context.Request.Headers.Authorization.ToString();
        var key = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : "";
        if (_blockedUntil.TryGetValue(key, out var until) && now < until)
        {
            _violations.Enqueue($"request {number} on {key} at {now:O}, {(until - now).TotalMilliseconds:F0} ms before its Retry-After");
        }

        JsonElement body;
        try
        {
            body = (await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted)).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            Record(key, now, 400, [], null, null, "");
            await ErrorAsync(context, 400, $"We could not parse the JSON body of your request. ({ex.Message})", "invalid_request_error", null, null);
            return;
        }

        var model = body.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        int? dimensions = body.TryGetProperty("dimensions", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : null;
        var format = body.TryGetProperty("encoding_format", out var f) ? f.GetString() : null;
        var inputs = new List<string>();
        if (body.TryGetProperty("input", out var input))
        {
            if (input.ValueKind == JsonValueKind.String)
            {
                inputs.Add(input.GetString()!);
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                inputs.AddRange(input.EnumerateArray().Select(i => i.GetString() ?? ""));
            }
        }

        async Task Fail(int status, string message, string type, string? param, string? code)
        {
            Record(key, now, status, inputs, dimensions, format, model);
            await ErrorAsync(context, status, message, type, param, code);
        }

        if (RefusedKeys.Contains(key))
        {
            await Fail(401, "Incorrect API key provided: " + key + ". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", null, "invalid_api_key");
            return;
        }

        if (AlwaysThrottledKeys.Contains(key) || (ThrottleEvery > 0 && number % ThrottleEvery == 0))
        {
            var blockUntil = now + ThrottleRetryAfter;
            switch (RetryAfterStyle)
            {
                case "ms":
                    context.Response.Headers["retry-after-ms"] = ThrottleRetryAfter.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
                    break;
                case "date":
                    // HTTP dates have whole seconds: block until the instant the date names.
                    var date = now + ThrottleRetryAfter;
                    date = new DateTimeOffset(date.Ticks - (date.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
                    blockUntil = date;
                    context.Response.Headers.RetryAfter = date.ToString("r", CultureInfo.InvariantCulture);
                    break;
                default:
                    context.Response.Headers.RetryAfter = Math.Ceiling(ThrottleRetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    blockUntil = now + TimeSpan.FromSeconds(Math.Ceiling(ThrottleRetryAfter.TotalSeconds));
                    break;
            }

            await Fail(429, "Rate limit reached for requests. Please try again later.", "requests", null, "rate_limit_exceeded");
            // Only once the answer is out: a request the client had already sent is not a violation.
            await context.Response.CompleteAsync();
            Block(key, blockUntil);
            return;
        }

        if (AlwaysFail || (FailEvery > 0 && number % FailEvery == 0))
        {
            await Fail(500, "The server had an error while processing your request. Sorry about that!", "server_error", null, null);
            return;
        }

        if (StallEvery > 0 && number % StallEvery == 0)
        {
            try
            {
                await Task.Delay(StallFor, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Record(key, now, 499, inputs, dimensions, format, model);
                return;
            }
        }

        if (UnknownModel)
        {
            await Fail(404, $"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", null, "model_not_found");
            return;
        }

        if (inputs.Count == 0 || inputs.Count > 2048 || inputs.Any(string.IsNullOrEmpty))
        {
            await Fail(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "invalid_request_error", null, null);
            return;
        }

        if (PoisonMarker is not null && inputs.Any(i => i.Contains(PoisonMarker, StringComparison.Ordinal)))
        {
            await Fail(400, "This model's maximum context length is 8192 tokens, however you requested 9001 tokens (9001 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
                "invalid_request_error", null, null);
            return;
        }

        var size = dimensions ?? DefaultDimensions;
        var tokens = inputs.Sum(i => Encoding.UTF8.GetByteCount(i) / 3 + 1);
        if (ExhaustRequestWindowFor is { } window)
        {
            context.Response.Headers["x-ratelimit-limit-requests"] = "100";
            context.Response.Headers["x-ratelimit-remaining-requests"] = "0";
            context.Response.Headers["x-ratelimit-reset-requests"] = window.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + "ms";
            context.Response.Headers["x-ratelimit-remaining-tokens"] = "1000000";
            context.Response.Headers["x-ratelimit-reset-tokens"] = "0s";
        }

        Record(key, now, 200, inputs, dimensions, format, model);
        foreach (var text in inputs)
        {
            _embedded.AddOrUpdate(text, 1, (_, n) => n + 1);
        }

        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        for (var i = 0; i < inputs.Count; i++)
        {
            var vector = VectorFor(inputs[i], size);
            writer.WriteStartObject();
            writer.WriteString("object", "embedding");
            writer.WriteNumber("index", i);
            if (format == "base64")
            {
                var bytes = new byte[vector.Length * 4];
                for (var k = 0; k < vector.Length; k++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(k * 4), vector[k]);
                }

                writer.WriteString("embedding", Convert.ToBase64String(bytes));
            }
            else
            {
                writer.WriteStartArray("embedding");
                foreach (var value in vector)
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("model", model);
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", tokens);
        writer.WriteNumber("total_tokens", tokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync();
        if (ExhaustRequestWindowFor is { } spent)
        {
            await context.Response.CompleteAsync();
            Block(key, now + spent);
        }
    }

    private void Block(string key, DateTimeOffset until) =>
        _blockedUntil.AddOrUpdate(key, until, (_, old) => until > old ? until : old);

    private void Record(string key, DateTimeOffset at, int status, IReadOnlyList<string> inputs, int? dimensions, string? format, string model) =>
        _requests.Enqueue(new ServedRequest(key, at, status, inputs, dimensions, format, model));

    private static async Task ErrorAsync(HttpContext context, int status, string message, string type, string? param, string? code)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsJsonAsync(new { error = new { message, type, param, code } });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
