using RagPlatform.Cli.Bench;

namespace RagPlatform.Cli.Tests;

public sealed class KoreanTextGeneratorTests
{
    [Fact]
    public void Same_seed_same_text()
    {
        Assert.Equal(new KoreanTextGenerator(7).Document(500), new KoreanTextGenerator(7).Document(500));
        Assert.NotEqual(new KoreanTextGenerator(7).Document(500), new KoreanTextGenerator(8).Document(500));
    }

    [Fact]
    public void Documents_reach_the_requested_size_in_Korean_sentences()
    {
        var text = new KoreanTextGenerator(1).Document(2100);
        var tokens = text.Count(c => !char.IsWhiteSpace(c));
        Assert.InRange(tokens, 2100, 2300);
        Assert.True(text.Count(c => c is >= '\uAC00' and <= '\uD7A3') > tokens * 8 / 10, "mostly Hangul syllables");
        Assert.Contains("\n\n", text, StringComparison.Ordinal);
        Assert.All(text.Split("\n\n"), paragraph => Assert.Matches("[.?]$", paragraph));
    }

    [Theory]
    [InlineData("정부", false)]
    [InlineData("시장", true)]
    [InlineData("물", true)]
    [InlineData("회사", false)]
    public void Final_consonant_decides_the_particle(string word, bool expected) =>
        Assert.Equal(expected, KoreanTextGenerator.HasFinalConsonant(word));
}
