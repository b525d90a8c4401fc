using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.OpenAI;

/// <summary>
/// The API keys of one provider, used round-robin. A key that is rate-limited pauses until its Retry-After (or
/// its rate-limit window's reset) and the others carry on; a key the service refuses (401/403) is disabled.
/// Keys are known outside this class only by <see cref="ApiKeyState.Id"/>, a hash prefix.
/// </summary>
internal sealed class ApiKeyPool
{
    private readonly ApiKeyState[] _keys;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private int _next;

    public ApiKeyPool(IReadOnlyList<string> keys, TimeProvider time)
    {
        _time = time;
        // A server without authentication still gets a bearer token: the SDK requires one.
        _keys = (keys.Count == 0 ? ["unauthenticated"] : keys).Select(k => new ApiKeyState(k)).ToArray();
    }

    public IReadOnlyList<ApiKeyState> Keys => _keys;

    /// <summary>
    /// The next usable key in turn. When every key is paused, waits for the first to resume, unless that is
    /// after <paramref name="deadline"/>. Throws when no key is usable at all.
    /// </summary>
    public async Task<ApiKeyState> AcquireAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                DateTimeOffset? earliest = null;
                for (var n = 0; n < _keys.Length; n++)
                {
                    var key = _keys[(_next + n) % _keys.Length];
                    if (key.Disabled is not null)
                    {
                        continue;
                    }

                    if (key.PausedUntil <= now)
                    {
                        _next = (_next + n + 1) % _keys.Length;
                        return key;
                    }

                    earliest = earliest is null || key.PausedUntil < earliest ? key.PausedUntil : earliest;
                }

                if (earliest is null)
                {
                    throw new OpenAIProviderException(
                        "every API key was refused by the service: " + string.Join("; ", _keys.Select(k => $"{k.Id}: {k.Disabled}")));
                }

                if (earliest.Value > deadline)
                {
                    throw new OpenAIProviderException(
                        $"every API key is rate-limited until {earliest.Value:O}, after this request's retry deadline");
                }

                wait = earliest.Value - now;
            }

            await Task.Delay(wait, _time, cancellationToken);
        }
    }

    public void Pause(ApiKeyState key, TimeSpan duration)
    {
        lock (_gate)
        {
            var until = _time.GetUtcNow() + duration;
            if (until > key.PausedUntil)
            {
                key.PausedUntil = until;
            }
        }
    }

    public IReadOnlyList<CredentialUsage> Usage() =>
        _keys.Select(k => new CredentialUsage(
            k.Id, Interlocked.Read(ref k.Requests), Interlocked.Read(ref k.Tokens), Interlocked.Read(ref k.Errors),
            Interlocked.Read(ref k.Throttled), k.PausedUntil > _time.GetUtcNow() ? k.PausedUntil : null, k.Disabled)).ToList();
}

/// <summary>One key and its counters.</summary>
internal sealed class ApiKeyState(string secret)
{
    public long Requests;
    public long Tokens;
    public long Errors;
    public long Throttled;

    /// <summary>The secret. Only the SDK credential sees it; never formatted, logged or reported.</summary>
    public string Secret { get; } = secret;

    /// <summary>"key-" and the first 8 hex digits of the key's SHA-256: stable, and useless to an attacker.
    /// <c>printf %s "$KEY" | sha256sum | cut -c1-8</c> tells which key it is.</summary>
    public string Id { get; } = "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))[..8];

    public DateTimeOffset PausedUntil { get; set; } = DateTimeOffset.MinValue;

    public string? Disabled { get; set; }

    public KeyValuePair<string, object?> Tag => new("key", Id);

    public override string ToString() => Id;
}

/// <summary>The provider's instruments, labelled by the redacted key id.</summary>
internal sealed class OpenAIMetrics : IDisposable
{
    public const string MeterName = "RagPlatform.Plugins.OpenAI";

    private readonly Meter _meter = new(MeterName);

    public OpenAIMetrics()
    {
        Requests = _meter.CreateCounter<long>("ragplatform.openai.requests", "{request}", "Embedding requests sent, by key and outcome.");
        Tokens = _meter.CreateCounter<long>("ragplatform.openai.tokens", "{token}", "Tokens billed, by key.");
        Retries = _meter.CreateCounter<long>("ragplatform.openai.retries", "{retry}", "Requests sent again after a retryable failure, by reason.");
    }

    public Counter<long> Requests { get; }

    public Counter<long> Tokens { get; }

    public Counter<long> Retries { get; }

    public void Dispose() => _meter.Dispose();
}

/// <summary>The whole call failed (the service is down, every key is refused or throttled past the deadline,
/// the configuration is rejected). The message never holds a key.</summary>
public sealed class OpenAIProviderException(string message, Exception? inner = null) : Exception(message, inner);
