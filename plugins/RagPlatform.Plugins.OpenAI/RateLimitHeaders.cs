using System.Globalization;

namespace RagPlatform.Plugins.OpenAI;

/// <summary>
/// Reads the rate-limit headers OpenAI (and compatible gateways) send: <c>retry-after-ms</c>, <c>Retry-After</c>
/// (delta-seconds or an HTTP date), <c>x-ratelimit-remaining-requests/-tokens</c> and <c>x-ratelimit-reset-requests/-tokens</c>
/// (durations such as <c>1s</c>, <c>6m0s</c>, <c>20ms</c>, <c>1h2m3.5s</c>).
/// </summary>
internal static class RateLimitHeaders
{
    /// <summary>How long the server asks us to wait, or null when it says nothing.</summary>
    public static TimeSpan? RetryAfter(Func<string, string?> header, DateTimeOffset now)
    {
        if (header("retry-after-ms") is { } ms
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (header("retry-after") is not { } value)
        {
            return null;
        }

        value = value.Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var wait = date - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>
    /// When the window the response reports is spent (no requests left, or fewer tokens than the next request
    /// may need), how long until it resets; null when there is room.
    /// </summary>
    public static TimeSpan? ExhaustedWindow(Func<string, string?> header, long tokensNeeded)
    {
        TimeSpan? wait = null;
        if (ReadLong(header("x-ratelimit-remaining-requests")) is <= 0 && ParseDuration(header("x-ratelimit-reset-requests")) is { } requests)
        {
            wait = requests;
        }

        if (ReadLong(header("x-ratelimit-remaining-tokens")) is { } tokens && tokens < tokensNeeded
            && ParseDuration(header("x-ratelimit-reset-tokens")) is { } reset && (wait is null || reset > wait))
        {
            wait = reset;
        }

        return wait;
    }

    /// <summary>Parses <c>1h2m3.5s</c>, <c>6m0s</c>, <c>20ms</c>, <c>1.5s</c> or plain seconds.</summary>
    public static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain))
        {
            return plain >= 0 ? TimeSpan.FromSeconds(plain) : null;
        }

        var total = 0.0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }

            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            var factor = text[unitStart..i] switch
            {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                _ => double.NaN,
            };
            if (double.IsNaN(factor))
            {
                return null;
            }

            total += number * factor;
        }

        return TimeSpan.FromSeconds(total);
    }

    private static long? ReadLong(string? text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
