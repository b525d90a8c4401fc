namespace RagPlatform.Plugins.HashingEmbedder.Tests;

public sealed class KoreanTokenEstimatorTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("   \t\n", 0)]
    [InlineData("가", 1)]
    [InlineData("가나다", 3)]
    [InlineData("은행의 금리", 5)]
    [InlineData("漢字", 2)]
    [InlineData("かな", 2)]
    [InlineData("abcd", 1)]
    [InlineData("hello", 2)]
    [InlineData("internationalization", 5)]
    [InlineData("123", 1)]
    [InlineData("12345", 2)]
    [InlineData("1,234", 3)]
    [InlineData("안녕, world!", 6)]
    [InlineData("B2B", 3)]
    [InlineData("😀", 2)]
    [InlineData("\u0001\u0002", 2)]
    public void CountsOnePerSyllableAQuarterPerLetterAThirdPerDigitAndOnePerSymbol(string text, int expected)
    {
        Assert.Equal(expected, KoreanTokenEstimator.CountTokens(text));
    }

    [Fact]
    public void NullCountsZero()
    {
        Assert.Equal(0, KoreanTokenEstimator.CountTokens((string?)null));
    }

    [Fact]
    public void ACombiningMarkExtendsTheWordItFollows()
    {
        // "cafe" + U+0301: five units, still one four-letter word plus one more letter.
        Assert.Equal(2, KoreanTokenEstimator.CountTokens("cafe\u0301"));
        Assert.Equal(1, KoreanTokenEstimator.CountTokens("café"));
    }

    [Fact]
    public void PrefixLengthStopsAtTheBudget()
    {
        var length = KoreanTokenEstimator.GetPrefixLength("가나다라마", 3, out var tokens);

        Assert.Equal(3, length);
        Assert.Equal(3, tokens);
    }

    [Fact]
    public void PrefixLengthKeepsWholeTextWithinBudget()
    {
        var length = KoreanTokenEstimator.GetPrefixLength("가나 abc", 10, out var tokens);

        Assert.Equal(6, length);
        Assert.Equal(3, tokens);
    }

    [Fact]
    public void PrefixLengthNeverSplitsASurrogatePair()
    {
        // "a" costs 1 and the emoji 2: a budget of 2 cannot take the emoji, and must not take half of it.
        var length = KoreanTokenEstimator.GetPrefixLength("a😀b", 2, out var tokens);

        Assert.Equal(1, length);
        Assert.Equal(1, tokens);
    }

    [Fact]
    public void PrefixLengthCutsInsideAWordAtATokenBoundary()
    {
        // Eight letters are two tokens; a budget of one keeps the first four.
        var length = KoreanTokenEstimator.GetPrefixLength("abcdefgh", 1, out var tokens);

        Assert.Equal(4, length);
        Assert.Equal(1, tokens);
    }

    [Fact]
    public void APrefixNeverCountsMoreThanTheWholeText()
    {
        const string text = "2024년 한국은행(BOK)의 기준금리는 3.50%였다 — 😀 Interest rates, ㅋㅋ 漢字 café";
        var total = KoreanTokenEstimator.CountTokens(text);
        var previous = 0;
        for (var cut = 0; cut <= text.Length; cut++)
        {
            var count = KoreanTokenEstimator.CountTokens(text.AsSpan(0, cut));
            Assert.True(count >= previous, $"prefix {cut} counts {count}, shorter one {previous}");
            Assert.True(count <= total);
            previous = count;
        }
    }

    [Fact]
    public void RejectsANegativeBudget()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KoreanTokenEstimator.GetPrefixLength("가", -1, out _));
    }
}
