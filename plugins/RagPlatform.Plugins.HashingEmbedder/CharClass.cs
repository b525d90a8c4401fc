using System.Globalization;
using System.Runtime.CompilerServices;

namespace RagPlatform.Plugins.HashingEmbedder;

/// <summary>How a UTF-16 unit takes part in runs, shared by the feature extractor and the token estimator
/// so that both cut text at the same places.</summary>
internal enum CharClass : byte
{
    /// <summary>Whitespace: ends a run and yields nothing.</summary>
    Space,

    /// <summary>A precomposed Hangul syllable (U+AC00..U+D7A3).</summary>
    Hangul,

    /// <summary>A letter of a space-delimited alphabet (Latin, Greek, Cyrillic): runs are words.</summary>
    Word,

    /// <summary>A decimal digit of any script.</summary>
    Digit,

    /// <summary>Any other letter (Han, kana, jamo, Thai, ...): runs are cut into character bigrams.</summary>
    OtherLetter,

    /// <summary>A combining mark: it belongs to the run before it.</summary>
    Mark,

    /// <summary>Punctuation, symbols, controls and surrogate halves (emoji): ends a run.</summary>
    Other,
}

internal static class CharClassifier
{
    // ASCII is most of the non-Hangul text in Korean documents; a table keeps it off the Unicode category lookup.
    private static readonly CharClass[] _ascii = BuildAsciiTable();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static CharClass Classify(char c)
    {
        if (c < 0x80)
        {
            return _ascii[c];
        }

        if (c is >= '\uAC00' and <= '\uD7A3')
        {
            return CharClass.Hangul;
        }

        return ClassifySlow(c);
    }

    /// <summary>True when a unit of class <paramref name="next"/> extends a run of class <paramref name="run"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Continues(CharClass run, CharClass next) =>
        next == run || (next == CharClass.Mark && run is CharClass.Word or CharClass.OtherLetter);

    private static CharClass ClassifySlow(char c)
    {
        if (char.IsWhiteSpace(c))
        {
            return CharClass.Space;
        }

        switch (CharUnicodeInfo.GetUnicodeCategory(c))
        {
            case UnicodeCategory.DecimalDigitNumber:
                return CharClass.Digit;
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
                return CharClass.Mark;
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return IsAlphabetic(c) ? CharClass.Word : CharClass.OtherLetter;
            default:
                return CharClass.Other;
        }
    }

    // Scripts that separate words with spaces: a run of their letters is a word, as in English.
    private static bool IsAlphabetic(char c) =>
        c < '\u0530'                         // Latin-1, Latin Extended-A/B, IPA, Greek, Cyrillic, Cyrillic Supplement
        || c is >= '\u1E00' and <= '\u1FFF'; // Latin Extended Additional, Greek Extended

    private static CharClass[] BuildAsciiTable()
    {
        var table = new CharClass[0x80];
        for (var c = 0; c < table.Length; c++)
        {
            table[c] = c switch
            {
                >= 'a' and <= 'z' or >= 'A' and <= 'Z' => CharClass.Word,
                >= '0' and <= '9' => CharClass.Digit,
                ' ' or '\t' or '\n' or '\v' or '\f' or '\r' => CharClass.Space,
                _ => CharClass.Other,
            };
        }

        // U+001C..U+001F are whitespace to char.IsWhiteSpace; keep ASCII consistent with the slow path.
        for (var c = 0x1C; c <= 0x1F; c++)
        {
            table[c] = CharClass.Space;
        }

        return table;
    }
}
