using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RagPlatform.Tokenizers;

/// <summary>One step of a tokenizer.json "normalizer": text in, text out. Immutable, so thread-safe.</summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);
}

internal sealed class SequenceNormalizer(IReadOnlyList<TextNormalizer> steps) : TextNormalizer
{
    public override string Normalize(string text)
    {
        foreach (var step in steps)
        {
            text = step.Normalize(text);
        }

        return text;
    }
}

/// <summary>BertNormalizer: clean_text, handle_chinese_chars, lowercase, strip_accents (null follows lowercase).</summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase)
    : TextNormalizer
{
    public override string Normalize(string text)
    {
        if (cleanText)
        {
            text = CleanText(text);
        }

        if (handleChineseChars)
        {
            text = SpaceChineseChars(text);
        }

        if (lowercase)
        {
            text = TextRules.ToLowerJs(text);
            if (stripAccents != false)
            {
                text = StripAccents(text);
            }
        }
        else if (stripAccents == true)
        {
            text = StripAccents(text);
        }

        return text;
    }

    // Drops NUL, U+FFFD and control characters (Cc, Cf, Co, Cs except \t \n \r); every whitespace becomes a space.
    private static string CleanText(string text)
    {
        StringBuilder? builder = null;
        for (int i = 0; i < text.Length;)
        {
            int c = TextRules.CodePointAt(text, i, out int width);
            bool drop = c == 0 || c == 0xFFFD || IsControl(c);
            bool space = !drop && c != ' ' && TextRules.IsJsWhitespace(c);
            if ((drop || space) && builder is null)
            {
                builder = new StringBuilder(text.Length).Append(text, 0, i);
            }

            if (builder is not null && !drop)
            {
                if (space)
                {
                    builder.Append(' ');
                }
                else
                {
                    builder.Append(text, i, width);
                }
            }

            i += width;
        }

        return builder?.ToString() ?? text;
    }

    private static bool IsControl(int c) => c is not ('\t' or '\n' or '\r') &&
        (c < 0x20 || c >= 0x7F) && TextRules.Category(c) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    // transformers.js tests each UTF-16 unit, so only the BMP CJK blocks are spaced (astral ideographs are not).
    private static string SpaceChineseChars(string text)
    {
        StringBuilder? builder = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool chinese = c is (>= '\u4E00' and <= '\u9FFF') or (>= '\u3400' and <= '\u4DBF') or (>= '\uF900' and <= '\uFAFF');
            if (chinese)
            {
                builder ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
                builder.Append(' ').Append(c).Append(' ');
            }
            else
            {
                builder?.Append(c);
            }
        }

        return builder?.ToString() ?? text;
    }

    private static string StripAccents(string text) =>
        TextRules.RemoveCategories(TextRules.Normalize(text, NormalizationForm.FormD),
            category => category == UnicodeCategory.NonSpacingMark);
}

internal sealed class UnicodeFormNormalizer(NormalizationForm form) : TextNormalizer
{
    public override string Normalize(string text) => TextRules.Normalize(text, form);
}

internal sealed class LowercaseNormalizer : TextNormalizer
{
    public override string Normalize(string text) => TextRules.ToLowerJs(text);
}

/// <summary>StripAccents as transformers.js applies it: every \p{M} removed (no decomposition first).</summary>
internal sealed class StripAccentsNormalizer : TextNormalizer
{
    public override string Normalize(string text) => TextRules.RemoveCategories(text, category =>
        category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark);
}

internal sealed class StripNormalizer(bool left, bool right) : TextNormalizer
{
    public override string Normalize(string text)
    {
        if (left)
        {
            text = TextRules.TrimStartJs(text);
        }

        return right ? TextRules.TrimEndJs(text) : text;
    }
}

internal sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    public override string Normalize(string text) => prefix + text;
}

/// <summary>Replace: a literal string or a regular expression (compiled once) by the given content.</summary>
internal sealed class ReplaceNormalizer : TextNormalizer
{
    private readonly string? literal;
    private readonly Regex? regex;
    private readonly string content;

    public ReplaceNormalizer(string? literal, string? pattern, string content)
    {
        this.literal = literal;
        this.content = content;
        if (pattern is not null)
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
        }
    }

    public override string Normalize(string text)
    {
        if (regex is not null)
        {
            return regex.Replace(text, content.Replace("$", "$$", StringComparison.Ordinal));
        }

        return string.IsNullOrEmpty(literal) ? text : text.Replace(literal, content, StringComparison.Ordinal);
    }
}

/// <summary>
/// "Precompiled" (SentencePiece's normaliser, e.g. nmt_nfkc in XLM-R models). With a charsmap, its rules are
/// applied exactly as SentencePiece does (<see cref="PrecompiledCharsMap"/>). A file whose charsmap is null
/// (some converted files) gets transformers.js's stand-in: control characters dropped, whitespace to spaces, NFKC.
/// </summary>
internal sealed class PrecompiledNormalizer(PrecompiledCharsMap? charsMap) : TextNormalizer
{
    public override string Normalize(string text) => charsMap is null ? Fallback(text) : charsMap.Normalize(text);

    private static string Fallback(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c is (>= '\u0001' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F' or '\u008F' or '\u009F')
            {
                continue;
            }

            bool space = c is '\t' or '\n' or '\f' or '\r' or '\u00A0' or '\u1680' or (>= '\u2000' and <= '\u200F')
                or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u2581' or '\u3000' or '\uFEFF' or '\uFFFD';
            builder.Append(space ? ' ' : c);
        }

        text = builder.ToString();
        if (!text.Contains('\uFF5E', StringComparison.Ordinal))
        {
            return TextRules.Normalize(text, NormalizationForm.FormKC);
        }

        // transformers.js keeps the fullwidth tilde (NFKC would make it "~").
        return string.Join('\uFF5E', text.Split('\uFF5E').Select(part => TextRules.Normalize(part, NormalizationForm.FormKC)));
    }
}
