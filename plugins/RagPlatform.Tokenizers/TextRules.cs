using System.Globalization;
using System.Text;

namespace RagPlatform.Tokenizers;

/// <summary>
/// Character classes and string operations with the exact semantics transformers.js uses (JavaScript's
/// <c>\s</c>, <c>trim()</c>, <c>toLowerCase()</c>, <c>String.prototype.normalize</c>), because token ids must
/// equal transformers.js's. Where .NET differs (Unicode normalisation throws on lone surrogates,
/// <see cref="char.IsWhiteSpace(char)"/> has another set) the JavaScript rule wins.
/// </summary>
internal static class TextRules
{
    /// <summary>JavaScript's <c>\s</c> (WhiteSpace and LineTerminator of ECMA-262), which trim() also uses.</summary>
    public static bool IsJsWhitespace(int c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00A0' or '\u1680' or '\u2028' or '\u2029' or '\u202F'
            or '\u205F' or '\u3000' or '\uFEFF' => true,
        >= '\u2000' and <= '\u200A' => true,
        _ => false,
    };

    /// <summary>BERT punctuation as Hugging Face defines it: every ASCII non-alphanumeric printable, or \p{P}.</summary>
    public static bool IsPunctuation(int c)
    {
        if (c < 0x80)
        {
            return c is (>= 0x21 and <= 0x2F) or (>= 0x3A and <= 0x40) or (>= 0x5B and <= 0x60) or (>= 0x7B and <= 0x7E);
        }

        return CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.ConnectorPunctuation
            or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>The code point at <paramref name="index"/>; a lone surrogate is returned as itself.</summary>
    public static int CodePointAt(ReadOnlySpan<char> text, int index, out int width)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }

        width = 1;
        return c;
    }

    public static void AppendCodePoint(StringBuilder builder, int codePoint)
    {
        if (codePoint < 0x10000)
        {
            builder.Append((char)codePoint);
        }
        else
        {
            codePoint -= 0x10000;
            builder.Append((char)(0xD800 + (codePoint >> 10)));
            builder.Append((char)(0xDC00 + (codePoint & 0x3FF)));
        }
    }

    public static UnicodeCategory Category(int codePoint) =>
        codePoint is >= 0xD800 and <= 0xDFFF ? UnicodeCategory.Surrogate : CharUnicodeInfo.GetUnicodeCategory(codePoint);

    public static string TrimJs(string text) => TrimEndJs(TrimStartJs(text));

    public static string TrimStartJs(string text)
    {
        int start = 0;
        while (start < text.Length && IsJsWhitespace(text[start]))
        {
            start++;
        }

        return start == 0 ? text : text[start..];
    }

    public static string TrimEndJs(string text)
    {
        int end = text.Length;
        while (end > 0 && IsJsWhitespace(text[end - 1]))
        {
            end--;
        }

        return end == text.Length ? text : text[..end];
    }

    /// <summary>
    /// JavaScript's <c>toLowerCase()</c>: Unicode full lowercase mapping. Beyond the simple per-character mapping
    /// .NET applies, that means U+0130 → "i̇" and the context-dependent final sigma.
    /// </summary>
    public static string ToLowerJs(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            int c = CodePointAt(text, i, out int width);
            if (c == 0x130)
            {
                builder.Append('i').Append('\u0307');
            }
            else if (c == 0x3A3)
            {
                builder.Append(IsFinalSigma(text, i) ? '\u03C2' : '\u03C3');
            }
            else if (width == 2)
            {
                AppendCodePoint(builder, Rune.ToLowerInvariant(new Rune(c)).Value);
            }
            else
            {
                builder.Append(char.ToLowerInvariant((char)c));
            }

            i += width;
        }

        return builder.ToString();
    }

    // Final_Sigma (Unicode SpecialCasing): a cased letter before (case-ignorables skipped), none after.
    private static bool IsFinalSigma(string text, int index)
    {
        int before = index - 1;
        while (before >= 0 && IsCaseIgnorable(text[before]))
        {
            before--;
        }

        if (before < 0 || !IsCased(text[before]))
        {
            return false;
        }

        int after = index + 1;
        while (after < text.Length && IsCaseIgnorable(text[after]))
        {
            after++;
        }

        return after >= text.Length || !IsCased(text[after]);
    }

    private static bool IsCased(char c) => char.IsUpper(c) || char.IsLower(c) ||
        CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(char c) => c is '\'' or '.' or ':' or '\u00AD' or '\u2019' ||
        CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;

    /// <summary>
    /// <c>String.prototype.normalize(form)</c>: like <see cref="string.Normalize(NormalizationForm)"/>, but a lone
    /// surrogate (which .NET rejects) is kept as it is and the text around it normalised.
    /// </summary>
    public static string Normalize(string text, NormalizationForm form)
    {
        if (IsAsciiOnly(text))
        {
            return text;
        }

        int bad = IndexOfLoneSurrogate(text, 0);
        if (bad < 0)
        {
            return text.IsNormalized(form) ? text : text.Normalize(form);
        }

        var builder = new StringBuilder(text.Length);
        int start = 0;
        while (bad >= 0)
        {
            builder.Append(text[start..bad].Normalize(form)).Append(text[bad]);
            start = bad + 1;
            bad = IndexOfLoneSurrogate(text, start);
        }

        builder.Append(text[start..].Normalize(form));
        return builder.ToString();
    }

    private static bool IsAsciiOnly(string text) => Ascii.IsValid(text);

    private static int IndexOfLoneSurrogate(string text, int start)
    {
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }

                return i;
            }

            if (char.IsLowSurrogate(c))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Removes the characters of the given general categories (by code point).</summary>
    public static string RemoveCategories(string text, Func<UnicodeCategory, bool> remove)
    {
        StringBuilder? builder = null;
        for (int i = 0; i < text.Length;)
        {
            int c = CodePointAt(text, i, out int width);
            bool drop = c >= 0x80 && remove(Category(c));
            if (drop && builder is null)
            {
                builder = new StringBuilder(text.Length).Append(text, 0, i);
            }
            else if (!drop && builder is not null)
            {
                builder.Append(text, i, width);
            }

            i += width;
        }

        return builder?.ToString() ?? text;
    }
}
