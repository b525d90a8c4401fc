namespace RagPlatform.Plugins.OpenAI.Tests;

public sealed class RateLimitHeadersTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static Func<string, string?> Headers(params (string Name, string Value)[] headers) =>
        name => headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    [Fact]
    public void Retry_after_ms_wins_over_Retry_After()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), RateLimitHeaders.RetryAfter(Headers(("retry-after-ms", "250"), ("retry-after", "7")), Now));
        Assert.Equal(TimeSpan.FromSeconds(7), RateLimitHeaders.RetryAfter(Headers(("Retry-After", "7")), Now));
        Assert.Equal(TimeSpan.FromSeconds(30), RateLimitHeaders.RetryAfter(Headers(("Retry-After", "Sat, 21 Nov 2026 12:00:30 GMT")), Now));
        Assert.Equal(TimeSpan.Zero, RateLimitHeaders.RetryAfter(Headers(("Retry-After", "Sat, 21 Nov 2026 11:00:00 GMT")), Now));
        Assert.Null(RateLimitHeaders.RetryAfter(Headers(("Retry-After", "soon")), Now));
        Assert.Null(RateLimitHeaders.RetryAfter(Headers(), Now));
    }

    [Theory]
    [InlineData("1s", 1000)]
    [InlineData("6m0s", 360_000)]
    [InlineData("20ms", 20)]
    [InlineData("1h2m3.5s", 3_723_500)]
    [InlineData("2.5", 2500)]
    public void Reset_durations_parse(string text, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), RateLimitHeaders.ParseDuration(text));

    [Fact]
    public void A_window_is_spent_when_no_requests_or_too_few_tokens_remain()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), RateLimitHeaders.ExhaustedWindow(
            Headers(("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "2s"), ("x-ratelimit-remaining-tokens", "9999")), 100));
        Assert.Equal(TimeSpan.FromSeconds(6), RateLimitHeaders.ExhaustedWindow(
            Headers(("x-ratelimit-remaining-requests", "10"), ("x-ratelimit-remaining-tokens", "50"), ("x-ratelimit-reset-tokens", "6s")), 100));
        Assert.Null(RateLimitHeaders.ExhaustedWindow(
            Headers(("x-ratelimit-remaining-requests", "10"), ("x-ratelimit-remaining-tokens", "5000"), ("x-ratelimit-reset-tokens", "6s")), 100));
    }
}

public sealed class TokenEstimatorTests
{
    [Fact]
    public void Estimate_counts_two_per_Hangul_syllable_and_a_third_of_ASCII_words()
    {
        Assert.Equal(4, TokenEstimator.Count("한국", TokenCounting.Estimate));
        Assert.Equal(2, TokenEstimator.Count("hello", TokenCounting.Estimate));
        Assert.Equal(6 + 2 + 1, TokenEstimator.Count("대한민 국.", TokenCounting.Estimate));
        Assert.Equal(6, TokenEstimator.Count("한국", TokenCounting.Utf8Bytes));
    }

    [Fact]
    public void A_prefix_never_counts_more_than_the_whole()
    {
        const string text = "혼합 mixed 텍스트 12345 😀 and more   spaces\n\n끝.";
        foreach (var counting in Enum.GetValues<TokenCounting>())
        {
            var previous = 0;
            for (var cut = 1; cut <= text.Length; cut++)
            {
                var count = TokenEstimator.Count(text[..cut], counting);
                Assert.True(count + 1 >= previous, $"{counting}: prefix {cut} has {count}, shorter {previous}");
                previous = Math.Max(previous, count);
            }
        }
    }
}
