namespace RagPlatform.Tokenizers;

/// <summary>A piece of text a pre-tokenizer produced: a range of a string (no copy when nothing changed).</summary>
internal readonly record struct Segment(string Text, int Start, int Length)
{
    public ReadOnlySpan<char> Span => Text.AsSpan(Start, Length);

    public override string ToString() => Start == 0 && Length == Text.Length ? Text : Text.Substring(Start, Length);
}

/// <summary>One step of a tokenizer.json "pre_tokenizer". Immutable, so thread-safe.</summary>
internal abstract class PreTokenizer
{
    /// <param name="sectionIndex">Which section of the text (split at added tokens) this is; Metaspace's "first" needs it.</param>
    public abstract void PreTokenize(Segment input, int sectionIndex, List<Segment> output);
}

/// <summary>BertPreTokenizer: words split at whitespace; every punctuation character a word of its own.</summary>
internal sealed class BertPreTokenizer : PreTokenizer
{
    public override void PreTokenize(Segment input, int sectionIndex, List<Segment> output)
    {
        string text = input.Text;
        int end = input.Start + input.Length;
        int wordStart = -1;
        for (int i = input.Start; i < end;)
        {
            int c = TextRules.CodePointAt(text.AsSpan(0, end), i, out int width);
            bool space = TextRules.IsJsWhitespace(c);
            bool punctuation = !space && TextRules.IsPunctuation(c);
            if (space || punctuation)
            {
                if (wordStart >= 0)
                {
                    output.Add(new Segment(text, wordStart, i - wordStart));
                    wordStart = -1;
                }

                if (punctuation)
                {
                    output.Add(new Segment(text, i, width));
                }
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }

            i += width;
        }

        if (wordStart >= 0)
        {
            output.Add(new Segment(text, wordStart, end - wordStart));
        }
    }
}

/// <summary>WhitespaceSplit: maximal runs of non-whitespace.</summary>
internal sealed class WhitespaceSplitPreTokenizer : PreTokenizer
{
    public override void PreTokenize(Segment input, int sectionIndex, List<Segment> output)
    {
        string text = input.Text;
        int end = input.Start + input.Length;
        int wordStart = -1;
        for (int i = input.Start; i < end; i++)
        {
            if (TextRules.IsJsWhitespace(text[i]))
            {
                if (wordStart >= 0)
                {
                    output.Add(new Segment(text, wordStart, i - wordStart));
                    wordStart = -1;
                }
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }
        }

        if (wordStart >= 0)
        {
            output.Add(new Segment(text, wordStart, end - wordStart));
        }
    }
}

internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>
/// Metaspace: spaces become the replacement ("▁") and the text gets one in front per the prepend scheme. Like
/// transformers.js the result stays one piece (no split at "▁"): for SentencePiece vocabularies, whose pieces
/// carry "▁" only in front, the best Unigram path is the same either way.
/// </summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme prependScheme) : PreTokenizer
{
    public override void PreTokenize(Segment input, int sectionIndex, List<Segment> output)
    {
        var span = input.Span;
        bool prepend = (span.IsEmpty || (span[0] != replacement && span[0] != ' ')) &&
            (prependScheme == PrependScheme.Always || (prependScheme == PrependScheme.First && sectionIndex == 0));
        string text = string.Create(span.Length + (prepend ? 1 : 0), (input, prepend, replacement), static (buffer, state) =>
        {
            int offset = 0;
            if (state.prepend)
            {
                buffer[0] = state.replacement;
                offset = 1;
            }

            var source = state.input.Span;
            for (int i = 0; i < source.Length; i++)
            {
                buffer[offset + i] = source[i] == ' ' ? state.replacement : source[i];
            }
        });
        output.Add(new Segment(text, 0, text.Length));
    }
}

internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    public override void PreTokenize(Segment input, int sectionIndex, List<Segment> output)
    {
        var current = new List<Segment> { input };
        var next = new List<Segment>();
        foreach (var step in steps)
        {
            next.Clear();
            foreach (var segment in current)
            {
                step.PreTokenize(segment, sectionIndex, next);
            }

            (current, next) = (next, current);
        }

        output.AddRange(current);
    }
}
