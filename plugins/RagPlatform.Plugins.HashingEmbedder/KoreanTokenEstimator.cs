namespace RagPlatform.Plugins.HashingEmbedder;

/// <summary>
/// A cheap, tokenizer-free upper estimate of how many subword tokens a multilingual model spends on a text,
/// tuned for Korean. The host chunks with it, so it errs high: one token per Hangul syllable, Han character
/// or other non-alphabetic letter; one per four letters of a Latin/Greek/Cyrillic word (rounded up); one per
/// three digits of a number (rounded up); one per punctuation, symbol or control unit (an emoji's surrogate
/// pair counts two); whitespace is free. SentencePiece and WordPiece vocabularies of Korean-capable models
/// (XLM-R, bge-m3, KoE5) come in well under this; byte-level BPE vocabularies with few Korean merges can
/// exceed one token per syllable, so providers with a real tokenizer should count with it instead.
/// </summary>
/// <remarks>The estimate of a prefix never exceeds that of the whole text, so truncating by it is safe.</remarks>
public static class KoreanTokenEstimator
{
    private const int LettersPerWordToken = 4;
    private const int DigitsPerNumberToken = 3;

    /// <summary>The estimated token count of <paramref name="text"/>.</summary>
    public static int CountTokens(ReadOnlySpan<char> text)
    {
        GetPrefixLength(text, int.MaxValue, out var tokens);
        return tokens;
    }

    /// <summary>The estimated token count of <paramref name="text"/>; 0 for null.</summary>
    public static int CountTokens(string? text) => text is null ? 0 : CountTokens(text.AsSpan());

    /// <summary>
    /// The length, in UTF-16 units, of the longest prefix of <paramref name="text"/> whose estimate is at most
    /// <paramref name="maxTokens"/>; <paramref name="tokens"/> receives that prefix's estimate. The cut never
    /// splits a surrogate pair.
    /// </summary>
    public static int GetPrefixLength(ReadOnlySpan<char> text, int maxTokens, out int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        var count = 0;
        var run = CharClass.Space;
        var runLength = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var cls = CharClassifier.Classify(c);
            if (runLength > 0 && CharClassifier.Continues(run, cls))
            {
                runLength++;
            }
            else
            {
                run = cls;
                runLength = 1;
            }

            var cost = run switch
            {
                CharClass.Space => 0,
                CharClass.Word => runLength % LettersPerWordToken == 1 ? 1 : 0,
                CharClass.Digit => runLength % DigitsPerNumberToken == 1 ? 1 : 0,
                _ => 1,
            };

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                // Both halves at once, so a cut cannot separate them.
                if (count + cost + 1 > maxTokens)
                {
                    tokens = count;
                    return i;
                }

                count += cost + 1;
                i++;
                run = CharClass.Other;
                runLength = 1;
                continue;
            }

            if (count + cost > maxTokens)
            {
                tokens = count;
                return i;
            }

            count += cost;
        }

        tokens = count;
        return text.Length;
    }
}
