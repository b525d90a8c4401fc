using RagPlatform.Lexical;

namespace RagPlatform.Core.Tests;

public sealed class KoreanLexicalTokenizerTests
{
    // Bigrams alone: the tests below pin the syllable terms; word terms have tests of their own.
    private static readonly KoreanLexicalTokenizer Tokenizer = new(wordTerms: false);

    [Fact]
    public void Hangul_runs_become_overlapping_syllable_bigrams()
    {
        Assert.Equal(["주택", "택담", "담보", "보대", "대출"], Tokenizer.Tokenize("주택담보대출"));
    }

    [Fact]
    public void A_one_syllable_run_is_its_own_term()
    {
        Assert.Equal(["책", "은행"], Tokenizer.Tokenize("책 은행"));
    }

    [Theory]
    [InlineData("은행의")]
    [InlineData("은행은")]
    [InlineData("은행에서")]
    public void A_noun_with_a_particle_shares_the_bare_noun_term(string inflected)
    {
        Assert.Contains("은행", Tokenizer.Tokenize(inflected));
    }

    [Fact]
    public void Latin_words_and_numbers_are_whole_terms_and_cut_from_Hangul()
    {
        Assert.Equal(["gpt", "4", "2024", "년", "금리", "0", "25"], Tokenizer.Tokenize("GPT-4, 2024년 금리 0.25%"));
    }

    [Fact]
    public void Compatibility_forms_and_case_fold_to_the_plain_spelling()
    {
        // Full-width Latin and digits (NFKC) and upper case (case folding) match what users type.
        Assert.Equal(Tokenizer.Tokenize("abc 123 café"), Tokenizer.Tokenize("ＡＢＣ １２３ CAFÉ"));
    }

    [Fact]
    public void Decomposed_Hangul_matches_precomposed_syllables()
    {
        var decomposed = "은행".Normalize(System.Text.NormalizationForm.FormD);

        Assert.Equal(["은행"], Tokenizer.Tokenize(decomposed));
    }

    [Fact]
    public void Han_characters_are_cut_into_bigrams_and_punctuation_separates()
    {
        Assert.Equal(["銀行", "金"], Tokenizer.Tokenize("銀行·金"));
    }

    [Fact]
    public void Particle_stems_add_the_one_syllable_noun_only_when_enabled()
    {
        Assert.DoesNotContain("책", Tokenizer.Tokenize("책을"));
        Assert.Equal(["책을", "책"], new KoreanLexicalTokenizer(particleStems: true, wordTerms: false).Tokenize("책을"));
        Assert.Equal(["집에", "에서", "집"], new KoreanLexicalTokenizer(particleStems: true, wordTerms: false).Tokenize("집에서"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t")]
    [InlineData("!?…")]
    public void Text_without_letters_or_digits_has_no_terms(string text)
    {
        Assert.Empty(Tokenizer.Tokenize(text));
    }

    [Fact]
    public void Word_terms_are_on_by_default_and_follow_the_bigrams_of_their_word()
    {
        Assert.Equal(["주택", "택담", "담보", "보대", "대출", "w:주택담보대출"], KoreanLexicalTokenizer.Default.Tokenize("주택담보대출"));
    }

    [Theory]
    [InlineData("금리를", "w:금리")]
    [InlineData("은행에서", "w:은행")]
    [InlineData("공개하는", "w:공개")]
    [InlineData("제공합니다", "w:제공합니다")] // 합니다 is not stripped: only the endings listed are
    [InlineData("나이", "w:나이")] // one syllable would remain: nothing is stripped
    public void A_word_term_loses_one_trailing_particle_or_ending_when_two_syllables_remain(string word, string term)
    {
        Assert.Contains(term, KoreanLexicalTokenizer.Default.Tokenize(word));
    }

    [Fact]
    public void Inflected_forms_of_a_word_share_its_word_term()
    {
        var forms = new[] { "대출금리는", "대출금리의", "대출금리를", "대출금리" }
            .Select(f => KoreanLexicalTokenizer.Default.Tokenize(f).Single(t => t.StartsWith(KoreanLexicalTokenizer.WordPrefix, StringComparison.Ordinal)));

        Assert.All(forms, t => Assert.Equal("w:대출금리", t));
    }

    [Fact]
    public void One_syllable_runs_and_other_scripts_get_no_word_term()
    {
        Assert.Equal(["책", "gpt", "4"], KoreanLexicalTokenizer.Default.Tokenize("책 GPT-4"));
    }

    [Fact]
    public void The_analyzer_id_names_every_setting_that_changes_the_terms()
    {
        var ids = new[]
        {
            new KoreanLexicalTokenizer(false, false).AnalyzerId, new KoreanLexicalTokenizer(false, true).AnalyzerId,
            new KoreanLexicalTokenizer(true, false).AnalyzerId, new KoreanLexicalTokenizer(true, true).AnalyzerId,
        };

        Assert.Equal(4, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal("ko-bigram/1", ids[0]);
    }
}
