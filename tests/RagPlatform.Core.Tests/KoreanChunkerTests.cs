using RagPlatform.Core.Text;

namespace RagPlatform.Core.Tests;

public class KoreanChunkerTests
{
    // One token per non-space character: easy to reason about in assertions.
    private static int CountChars(string text) => text.Count(c => !char.IsWhiteSpace(c));

    [Fact]
    public void Sentences_end_at_Korean_final_endings_even_without_a_space()
    {
        var sentences = SentenceSplitter.Split("오늘은 비가 왔다.내일은 맑을 거예요.정말요? 네!")
            .Select(s => "오늘은 비가 왔다.내일은 맑을 거예요.정말요? 네!".Substring(s.Start, s.Length)).ToList();

        Assert.Equal(["오늘은 비가 왔다.", "내일은 맑을 거예요.", "정말요?", "네!"], sentences);
    }

    [Fact]
    public void Decimal_numbers_and_abbreviations_do_not_end_a_sentence()
    {
        const string text = "금리는 3.5%로 올랐다. U.S.A.는 미국이다.";
        var sentences = SentenceSplitter.Split(text).Select(s => text.Substring(s.Start, s.Length)).ToList();

        Assert.Equal(["금리는 3.5%로 올랐다.", "U.S.A.는 미국이다."], sentences);
    }

    [Fact]
    public void Chunks_respect_the_token_budget_and_keep_every_sentence()
    {
        var text = string.Join(' ', Enumerable.Range(0, 40).Select(i => $"문장 번호 {i}번은 여기서 끝난다."));
        var chunker = new KoreanChunker(maxTokens: 40, overlapTokens: 0, CountChars);

        var chunks = chunker.Chunk(text);

        Assert.True(chunks.Count > 1);
        Assert.All(chunks, c => Assert.True(c.Tokens <= 40, $"chunk {c.Ordinal} has {c.Tokens} tokens"));
        Assert.Equal(text, string.Join(' ', chunks.Select(c => c.Text)));
    }

    [Fact]
    public void Overlap_repeats_trailing_sentences_of_the_previous_chunk()
    {
        var text = string.Join(' ', Enumerable.Range(0, 12).Select(i => $"이것은 {i:00}번 문장이다."));
        // Each sentence is 11 tokens: two fit a chunk, and one fits the overlap.
        var chunker = new KoreanChunker(maxTokens: 30, overlapTokens: 12, CountChars);

        var chunks = chunker.Chunk(text);

        Assert.True(chunks.Count > 2);
        for (var i = 1; i < chunks.Count; i++)
        {
            var previousLastSentence = chunks[i - 1].Text.Split(' ')[^3..];
            Assert.StartsWith(string.Join(' ', previousLastSentence), chunks[i].Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_oversized_sentence_is_split_by_words_and_characters_never_dropped()
    {
        var longWord = new string('가', 95);
        var text = "짧은 말. " + string.Join(' ', Enumerable.Repeat("단어들이", 30)) + " " + longWord + " 끝.";
        var chunker = new KoreanChunker(maxTokens: 20, overlapTokens: 0, CountChars);

        var chunks = chunker.Chunk(text);

        Assert.All(chunks, c => Assert.True(CountChars(c.Text) <= 20));
        Assert.Equal(CountChars(text), chunks.Sum(c => CountChars(c.Text)));
    }

    [Fact]
    public void Character_splitting_never_cuts_a_surrogate_pair()
    {
        var text = string.Concat(Enumerable.Repeat("😀", 50));
        var chunker = new KoreanChunker(maxTokens: 7, overlapTokens: 0, s => s.Length);

        var chunks = chunker.Chunk(text);

        Assert.All(chunks, c => Assert.False(char.IsHighSurrogate(c.Text[^1])));
        Assert.Equal(text, string.Concat(chunks.Select(c => c.Text)));
    }

    [Fact]
    public void Parameters_name_the_scheme_and_budget_so_hashes_change_with_them()
    {
        Assert.NotEqual(new KoreanChunker(256, 32, CountChars).Parameters, new KoreanChunker(256, 16, CountChars).Parameters);
    }
}
