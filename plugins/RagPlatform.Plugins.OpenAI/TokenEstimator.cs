using System.Text;

namespace RagPlatform.Plugins.OpenAI;

/// <summary>
/// Counts tokens without the model's vocabulary (no tiktoken package is available), erring high.
/// <list type="bullet">
/// <item><see cref="TokenCounting.Estimate"/>: a Hangul syllable or other non-Latin letter (Han, kana) counts 2;
/// a run of ASCII letters or digits counts one per 3 characters (rounded up; cl100k averages about 4 letters a
/// token and never merges more than 3 digits); ASCII punctuation 1 each; other symbols and emoji their UTF-8
/// bytes; whitespace after the first in a run 1 each. cl100k_base spends about 1-1.5 tokens on a common Hangul
/// syllable, so Korean text comes in well under this; a text of only rare syllables (3 byte tokens each) can
/// exceed it. That input then fails alone (the server's 400 is isolated by splitting), never its batch.</item>
/// <item><see cref="TokenCounting.Utf8Bytes"/>: the UTF-8 byte count, a proven upper bound for any byte-level
/// BPE vocabulary, since every token covers at least one byte.</item>
/// </list>
/// Both never give a prefix more tokens than the whole text, so a chunker may cut by them.
/// </summary>
public static class TokenEstimator
{
    private const int CharsPerAsciiToken = 3;

    public static int Count(string? text, TokenCounting counting) =>
        string.IsNullOrEmpty(text) ? 0 : counting == TokenCounting.Utf8Bytes ? Encoding.UTF8.GetByteCount(text) : Estimate(text);

    private static int Estimate(string text)
    {
        var tokens = 0;
        var asciiRun = 0;
        var spaceRun = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x80 && char.IsAsciiLetterOrDigit(c))
            {
                tokens += asciiRun % CharsPerAsciiToken == 0 ? 1 : 0;
                asciiRun++;
                spaceRun = 0;
                continue;
            }

            asciiRun = 0;
            if (char.IsWhiteSpace(c))
            {
                tokens += spaceRun > 0 ? 1 : 0;
                spaceRun++;
                continue;
            }

            spaceRun = 0;
            if (c < 0x80)
            {
                tokens++;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                tokens += 4;
                i++;
            }
            else if (char.IsLetter(c))
            {
                tokens += 2;
            }
            else
            {
                // A symbol, mark or lone surrogate: at most its UTF-8 bytes (a lone surrogate is sent as U+FFFD, 3 bytes).
                tokens += c < 0x800 ? 2 : 3;
            }
        }

        return tokens;
    }
}
