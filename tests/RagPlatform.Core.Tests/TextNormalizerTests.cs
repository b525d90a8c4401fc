using System.Text;
using RagPlatform.Core.Text;

namespace RagPlatform.Core.Tests;

public class TextNormalizerTests
{
    [Fact]
    public void Decomposed_Hangul_is_composed_so_both_forms_hash_alike()
    {
        var decomposed = "한국어".Normalize(NormalizationForm.FormD);

        Assert.Equal("한국어", TextNormalizer.Normalize(decomposed));
    }

    [Fact]
    public void Line_endings_spaces_and_controls_are_canonical()
    {
        Assert.Equal("a b\nc\n\nd", TextNormalizer.Normalize("  a \t b\r\nc\r\n\r\n\r\n\u200Bd\u0007  "));
    }

    [Fact]
    public void Lone_surrogates_become_replacement_characters()
    {
        Assert.Equal("a\uFFFDb", TextNormalizer.Normalize("a\uD800b"));
    }

    [Fact]
    public void Whitespace_only_text_normalises_to_empty()
    {
        Assert.Equal(string.Empty, TextNormalizer.Normalize(" \r\n\t\u200B "));
    }
}
