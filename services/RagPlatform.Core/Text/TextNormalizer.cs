using System.Globalization;
using System.Text;

namespace RagPlatform.Core.Text;

/// <summary>
/// Brings document text to one canonical form before chunking and hashing, so that the same content
/// always hashes the same (CRLF vs LF, decomposed vs composed Hangul, stray control characters).
/// </summary>
public static class TextNormalizer
{
    /// <summary>
    /// NFC (composes conjoining Jamo into syllables), LF line ends, no control or zero-width characters,
    /// lone surrogates replaced, runs of spaces folded, at most one blank line between paragraphs, trimmed.
    /// </summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Normalisation APIs throw on lone surrogates, so those go first.
        text = ReplaceLoneSurrogates(text);
        if (!text.IsNormalized(NormalizationForm.FormC))
        {
            text = text.Normalize(NormalizationForm.FormC);
        }

        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        var newlines = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\r')
            {
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    continue;
                }

                c = '\n';
            }

            if (c == '\n')
            {
                newlines++;
                pendingSpace = false;
                continue;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    Flush(builder, ref pendingSpace, ref newlines);
                    builder.Append(c).Append(text[i + 1]);
                    i++;
                    continue;
                }

                c = '\uFFFD';
            }
            else if (char.IsLowSurrogate(c))
            {
                c = '\uFFFD';
            }

            if (c == '\t' || c == '\u00A0' || c == '\u3000' || (char.IsWhiteSpace(c) && c != '\n'))
            {
                pendingSpace = builder.Length > 0 || newlines > 0;
                continue;
            }

            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format)
            {
                // Zero-width spaces, BOMs, bidi marks and C0/C1 controls carry no text and break hashing.
                continue;
            }

            Flush(builder, ref pendingSpace, ref newlines);
            builder.Append(c);
        }

        return builder.ToString();
    }

    private static void Flush(StringBuilder builder, ref bool pendingSpace, ref int newlines)
    {
        if (builder.Length > 0)
        {
            if (newlines > 0)
            {
                builder.Append(newlines > 1 ? "\n\n" : "\n");
            }
            else if (pendingSpace)
            {
                builder.Append(' ');
            }
        }

        pendingSpace = false;
        newlines = 0;
    }

    private static string ReplaceLoneSurrogates(string text)
    {
        char[]? copy = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                copy ??= text.ToCharArray();
                copy[i] = '\uFFFD';
            }
        }

        return copy is null ? text : new string(copy);
    }
}
