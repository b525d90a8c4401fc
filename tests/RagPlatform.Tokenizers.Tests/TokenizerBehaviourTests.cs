using System.Text;

namespace RagPlatform.Tokenizers.Tests;

public sealed class TokenizerBehaviourTests
{
    private static readonly HuggingFaceTokenizer Korean = FixtureFiles.Tokenizer("kr-sbert-v40k");
    private static readonly HuggingFaceTokenizer English = FixtureFiles.Tokenizer("all-minilm-l6-v2");
    private static readonly HuggingFaceTokenizer Unigram = FixtureFiles.Tokenizer("unigram-ko-en");

    [Fact]
    public void Truncation_cuts_the_text_and_keeps_the_closing_special_token()
    {
        string text = "임베딩 모델은 한 번만 메모리에 올리고 모든 요청이 함께 씁니다. 모델 허브가 429를 돌려주면 다시 시도합니다.";
        var full = Korean.Encode(text, int.MaxValue).InputIds;
        var cut = Korean.Encode(text, 10);

        Assert.Equal(10, cut.Length);
        Assert.Equal(full[..9], cut.InputIds[..9]);
        Assert.Equal(full[^1], cut.InputIds[^1]);
        Assert.All(cut.TypeIds, t => Assert.Equal(0, t));
    }

    [Fact]
    public void Unigram_truncation_keeps_s_and_closing_s()
    {
        var cut = Unigram.Encode("검색 증강 생성(RAG)은 문서를 청크로 나누고, 각 청크를 벡터로 바꿔 색인합니다.", 6).InputIds;
        Assert.Equal(6, cut.Length);
        Assert.Equal(0, cut[0]);
        Assert.Equal(2, cut[^1]);
    }

    [Fact]
    public void A_text_shorter_than_the_limit_is_not_padded()
    {
        Assert.Equal(English.Encode("hello world", int.MaxValue).InputIds, English.Encode("hello world", 512).InputIds);
    }

    [Fact]
    public void A_limit_without_room_for_the_special_tokens_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Korean.Encode("텍스트", 1));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\n\t\r\n")]
    [InlineData("\u0001\u0002\u200b")]
    public void Empty_or_blank_text_is_just_the_special_tokens(string text)
    {
        Assert.Equal(Korean.Encode("", 512).InputIds, Korean.Encode(text, 512).InputIds);
        Assert.Equal(2, Korean.Encode(text, 512).Length);
        // SentencePiece keeps a lone "▁" for blank text (as transformers.js does); empty text is just <s> </s>.
        Assert.Equal([0, 2], Unigram.Encode("", 512).InputIds);
        Assert.Equal(2, English.Encode(text, 512).Length);
    }

    [Fact]
    public void Special_tokens_written_in_the_text_are_the_special_tokens()
    {
        var ids = Korean.Encode("앞 [MASK] 뒤 [SEP]", 512).InputIds;
        int mask = Korean.Encode("[MASK]", 512).InputIds[1];
        int sep = ids[^1];

        Assert.Contains(mask, ids);
        Assert.Equal(2, ids.Count(id => id == sep));
        Assert.Equal(3, Korean.Encode("[MASK]", 512).Length);
    }

    [Fact]
    public void An_lstrip_added_token_swallows_the_space_before_it()
    {
        Assert.Equal(Unigram.Encode("a<mask>", 512).InputIds, Unigram.Encode("a   <mask>", 512).InputIds);
    }

    [Fact]
    public void A_word_longer_than_max_input_chars_per_word_is_one_unknown_token()
    {
        var ids = English.Encode(new string('x', 101), 512).InputIds;
        var unknown = English.Encode("\u2603", 512).InputIds[1]; // a snowman: not in the trimmed vocabulary
        Assert.Equal(3, ids.Length);
        Assert.Equal(unknown, ids[1]);
        Assert.True(English.Encode(new string('x', 100), 512).Length > 3);
    }

    [Fact]
    public void Lowercase_with_null_strip_accents_strips_accents_and_cased_vocab_keeps_them()
    {
        Assert.Equal(English.Encode("cafe resume", 512).InputIds, English.Encode("CAFÉ RÉSUMÉ", 512).InputIds);
        Assert.NotEqual(Korean.Encode("cafe", 512).InputIds, Korean.Encode("Café", 512).InputIds);
    }

    [Fact]
    public void Punctuation_splits_words_but_symbols_do_not()
    {
        // "!" (Po) and "-" are punctuation; "©" (So) is a symbol and stays inside the word, as in transformers.js.
        Assert.Equal(English.Encode("a ! b", 512).InputIds, English.Encode("a!b", 512).InputIds);
        Assert.NotEqual(English.Encode("a © b", 512).InputIds, English.Encode("a©b", 512).InputIds);
    }

    [Fact]
    public void Unknown_characters_in_a_row_fuse_into_one_unknown_piece()
    {
        var ids = Unigram.Encode("🙂👍🏽", 512).InputIds;
        Assert.Equal([0, ids[1], 3, 2], ids.Length == 4 ? ids : [0, -1, -1, -1, 2]);
    }

    [Fact]
    public void The_pad_token_and_model_max_length_come_from_the_files()
    {
        Assert.Equal(0, Korean.PadTokenId);
        Assert.Equal(1, Unigram.PadTokenId);
        Assert.Equal(512, English.ModelMaxLength);
        Assert.Equal("WordPiece", Korean.ModelType);
        Assert.Equal("Unigram", Unigram.ModelType);
        Assert.Equal(2, Unigram.SpecialTokenCount);
    }

    [Fact]
    public void An_unsupported_model_is_refused_by_name()
    {
        const string json = """{"added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"model":{"type":"BPE","vocab":{},"merges":[]}}""";
        var error = Assert.Throws<NotSupportedException>(() => TokenizerFile.Parse(json));
        Assert.Contains("BPE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_unigram_model_without_unk_id_is_refused()
    {
        const string json = """{"added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"model":{"type":"Unigram","vocab":[["a",-1.0]]}}""";
        Assert.Throws<NotSupportedException>(() => TokenizerFile.Parse(json));
    }

    [Fact]
    public void Loading_takes_the_folder_or_the_file()
    {
        var byFile = TokenizerFile.Load(Path.Combine(FixtureFiles.Folder("unigram-ko-en"), "tokenizer.json"));
        Assert.Equal(Unigram.Encode("모델 허브", 64).InputIds, byFile.Encode("모델 허브", 64).InputIds);
        Assert.Throws<FileNotFoundException>(() => TokenizerFile.Load(Path.Combine(FixtureFiles.Folder("unigram-ko-en"), "missing.json")));
    }
}

public sealed class NormalizationTests
{
    private static readonly PrecompiledCharsMap CharsMap = LoadCharsMap();

    private static PrecompiledCharsMap LoadCharsMap()
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureFiles.Folder("unigram-ko-en"), "tokenizer.json")));
        string blob = document.RootElement.GetProperty("normalizer").GetProperty("normalizers")[0].GetProperty("precompiled_charsmap").GetString()!;
        return PrecompiledCharsMap.Parse(Convert.FromBase64String(blob));
    }

    [Theory]
    [InlineData("ＡＢＣ１２３", "ABC123")]                    // fullwidth forms
    [InlineData("ㄱㄴㄷ", "\u1100\u1102\u1103")]              // compatibility jamo → conjoining jamo (NFKC)
    [InlineData("ﾊﾝｸﾞﾙ", "ハングル")]                         // halfwidth kana, and ｸ+ﾞ composing: the longer rule wins
    [InlineData("\u1112\u1161\u11ab", "한")]                  // conjoining jamo L V T → one syllable, not "하" + ᆫ
    [InlineData("①㈜㎏", "1(주)kg")]
    [InlineData("a\u0001b\u007fc", "abc")]                    // controls dropped
    [InlineData("a\u3000b\u00a0c", "a b c")]                  // odd spaces → " "
    [InlineData("물결표～", "물결표～")]                       // no rule: copied as is
    [InlineData("plain ascii", "plain ascii")]
    public void The_precompiled_charsmap_applies_the_longest_matching_rule(string input, string expected)
    {
        Assert.Equal(expected, CharsMap.Normalize(input));
    }

    [Fact]
    public void A_lone_surrogate_passes_through_normalisation_untouched()
    {
        string text = "a\ud800b①";
        Assert.Equal("a\ud800b1", CharsMap.Normalize(text));
        Assert.Equal("a\ud800b1", new UnicodeFormNormalizer(NormalizationForm.FormKC).Normalize(text));
    }

    [Theory]
    [InlineData("ﬁ", "fi")]
    [InlineData("Ⅻ", "XII")]
    [InlineData("x²", "x2")]
    [InlineData("ｶﾞ", "ガ")]
    [InlineData("\u1100\u1161", "가")]
    public void Nfkc_follows_unicode(string input, string expected)
    {
        Assert.Equal(expected, new UnicodeFormNormalizer(NormalizationForm.FormKC).Normalize(input));
    }

    [Fact]
    public void Bert_normalizer_spaces_cjk_ideographs_and_drops_controls()
    {
        var normalizer = new BertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: false);
        Assert.Equal("a 中 b", normalizer.Normalize("a中b\u0001"));
        Assert.Equal("x y", normalizer.Normalize("x\ty"));
    }

    [Fact]
    public void Lowercasing_follows_javascript_full_case_mapping()
    {
        Assert.Equal("i\u0307stanbul", TextRules.ToLowerJs("İstanbul"));
        Assert.Equal("σοφος", TextRules.ToLowerJs("ΣΟΦΟΣ"));
    }
}

/// <summary>Two texts as one input (a cross-encoder's query and passage), with each tokenizer's pair template.</summary>
public sealed class PairEncodingTests
{
    private static readonly HuggingFaceTokenizer Korean = FixtureFiles.Tokenizer("kr-sbert-v40k");
    private static readonly HuggingFaceTokenizer Unigram = FixtureFiles.Tokenizer("unigram-ko-en");

    [Fact]
    public void A_bert_pair_is_cls_first_sep_second_sep_with_the_second_typed_one()
    {
        var first = Korean.Encode("건강검진 금식", 512);
        var second = Korean.Encode("검진 전날 저녁부터 금식한다", 512);

        var pair = Korean.EncodePair("건강검진 금식", "검진 전날 저녁부터 금식한다", 512);

        Assert.Equal([.. first.InputIds, .. second.InputIds[1..]], pair.InputIds);
        Assert.Equal([.. new int[first.Length], .. Enumerable.Repeat(1, second.Length - 1)], pair.TypeIds);
    }

    [Fact]
    public void An_xlmr_pair_follows_its_templates_double_separator()
    {
        var first = Unigram.Encode("금리 인상", 512);
        var second = Unigram.Encode("interest rates rose", 512);

        var pair = Unigram.EncodePair("금리 인상", "interest rates rose", 512);

        // <s> A </s> </s> B </s>: the single encodings joined with the separator repeated between them.
        Assert.Equal([.. first.InputIds, first.InputIds[^1], .. second.InputIds[1..]], pair.InputIds);
        Assert.Equal(pair.Length, pair.TypeIds.Length);
    }

    [Fact]
    public void A_pair_longer_than_the_limit_loses_tokens_from_its_longer_side_first()
    {
        var query = "건강검진 금식";
        var passage = string.Concat(Enumerable.Repeat("검진 전날 저녁부터 금식한다. ", 40));
        var queryTokens = Korean.CountTokens(query) - 2;

        var pair = Korean.EncodePair(query, passage, 64);

        Assert.Equal(64, pair.Length);
        Assert.Equal(Korean.Encode(query, 512).InputIds[..^1], pair.InputIds[..(queryTokens + 1)]);
    }

    [Theory]
    [InlineData(3, 4, 10, 3, 4)]
    [InlineData(10, 3, 8, 5, 3)]
    [InlineData(3, 10, 9, 3, 6)]
    [InlineData(10, 10, 8, 4, 4)]
    [InlineData(10, 12, 9, 4, 5)]
    public void Longest_first_truncation_gives_the_longer_side_the_cut(int first, int second, int budget, int expectedFirst, int expectedSecond)
    {
        Assert.Equal((expectedFirst, expectedSecond), HuggingFaceTokenizer.LongestFirst(first, second, budget));
    }
}
