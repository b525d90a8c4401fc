using System.Globalization;

namespace RagPlatform.Core.Text;

/// <summary>A chunk of a normalised document: its text and where it sits.</summary>
public readonly record struct TextChunk(int Ordinal, string Text, int Start, int Length, int Tokens);

/// <summary>
/// Splits normalised text into chunks that fit a token budget, on sentence boundaries where it can.
/// Korean-aware: a sentence ends at . ! ? (and their full-width forms) followed by space or a line end,
/// and also after a Korean final ending ("다." "요." "죠." "까?" …) even when the next sentence follows
/// without a space, as text extracted from PDFs often does. Text longer than the budget is split at
/// word and then character boundaries: nothing is dropped.
/// </summary>
public sealed class KoreanChunker
{
    private readonly Func<string, int> _countTokens;

    public KoreanChunker(int maxTokens, int overlapTokens, Func<string, int> countTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlapTokens);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(overlapTokens, maxTokens);
        MaxTokens = maxTokens;
        OverlapTokens = overlapTokens;
        _countTokens = countTokens;
    }

    public int MaxTokens { get; }

    public int OverlapTokens { get; }

    /// <summary>Tokens of <paramref name="text"/> as the collection's provider counts them.</summary>
    public int CountTokens(string text) => _countTokens(text);

    /// <summary>Identifies the chunking scheme and parameters; part of every chunk's content hash.</summary>
    public string Parameters => string.Create(CultureInfo.InvariantCulture, $"korean-sentence-v1;max={MaxTokens};overlap={OverlapTokens}");

    public IReadOnlyList<TextChunk> Chunk(string text)
    {
        var units = SplitUnits(text);
        var chunks = new List<TextChunk>();
        var index = 0;
        while (index < units.Count)
        {
            // Greedily take whole units while they fit.
            var end = index;
            var tokens = 0;
            while (end < units.Count && (end == index || tokens + units[end].Tokens <= MaxTokens))
            {
                tokens += units[end].Tokens;
                end++;
            }

            // Units are trimmed sentences, so the span from the first to the last needs no trimming.
            var start = units[index].Start;
            var length = units[end - 1].Start + units[end - 1].Length - start;
            chunks.Add(new TextChunk(chunks.Count, text.Substring(start, length), start, length, tokens));

            if (end >= units.Count)
            {
                break;
            }

            // Start the next chunk with trailing units of this one that fit the overlap budget,
            // but always make progress.
            var next = end;
            var overlap = 0;
            while (next - 1 > index && overlap + units[next - 1].Tokens <= OverlapTokens)
            {
                overlap += units[next - 1].Tokens;
                next--;
            }

            index = next;
        }

        return chunks;
    }

    private readonly record struct Unit(int Start, int Length, int Tokens);

    /// <summary>Sentences, with any sentence over budget broken into word-, then character-sized pieces.</summary>
    private List<Unit> SplitUnits(string text)
    {
        var units = new List<Unit>();
        foreach (var (start, length) in SentenceSplitter.Split(text))
        {
            var tokens = _countTokens(text.Substring(start, length));
            if (tokens <= MaxTokens)
            {
                units.Add(new Unit(start, length, Math.Max(tokens, 1)));
            }
            else
            {
                SplitOversized(text, start, length, units);
            }
        }

        return units;
    }

    private void SplitOversized(string text, int start, int length, List<Unit> units)
    {
        // Pieces of whole words up to the budget; a single word over budget is cut by characters
        // (never inside a surrogate pair).
        var pieceStart = start;
        var pieceTokens = 0;
        var position = start;
        var end = start + length;
        while (position < end)
        {
            var wordEnd = position;
            while (wordEnd < end && text[wordEnd] != ' ' && text[wordEnd] != '\n')
            {
                wordEnd++;
            }

            while (wordEnd < end && (text[wordEnd] == ' ' || text[wordEnd] == '\n'))
            {
                wordEnd++;
            }

            var wordTokens = _countTokens(text.Substring(position, wordEnd - position));
            if (wordTokens > MaxTokens)
            {
                if (position > pieceStart)
                {
                    units.Add(new Unit(pieceStart, position - pieceStart, Math.Max(pieceTokens, 1)));
                }

                CutByCharacters(text, position, wordEnd - position, units);
                pieceStart = wordEnd;
                pieceTokens = 0;
            }
            else if (pieceTokens + wordTokens > MaxTokens)
            {
                units.Add(new Unit(pieceStart, position - pieceStart, Math.Max(pieceTokens, 1)));
                pieceStart = position;
                pieceTokens = wordTokens;
            }
            else
            {
                pieceTokens += wordTokens;
            }

            position = wordEnd;
        }

        if (end > pieceStart)
        {
            units.Add(new Unit(pieceStart, end - pieceStart, Math.Max(pieceTokens, 1)));
        }
    }

    private void CutByCharacters(string text, int start, int length, List<Unit> units)
    {
        var pieceStart = start;
        var end = start + length;
        while (pieceStart < end)
        {
            // Binary search for the longest prefix within budget; at least one character.
            var low = 1;
            var high = end - pieceStart;
            while (low < high)
            {
                var mid = (low + high + 1) / 2;
                if (_countTokens(text.Substring(pieceStart, mid)) <= MaxTokens)
                {
                    low = mid;
                }
                else
                {
                    high = mid - 1;
                }
            }

            var take = low;
            if (pieceStart + take < end && char.IsHighSurrogate(text[pieceStart + take - 1]))
            {
                take = take > 1 ? take - 1 : take + 1;
            }

            units.Add(new Unit(pieceStart, take, Math.Max(_countTokens(text.Substring(pieceStart, take)), 1)));
            pieceStart += take;
        }
    }
}

/// <summary>Finds sentence boundaries in normalised text (see <see cref="KoreanChunker"/>).</summary>
public static class SentenceSplitter
{
    public static IEnumerable<(int Start, int Length)> Split(string text)
    {
        var start = 0;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var boundary = -1;
            if (c == '\n')
            {
                boundary = i + 1;
            }
            else if (IsTerminal(c))
            {
                // Take the whole run of terminals and closing quotes/brackets: "끝났다." "정말?!" "(참고).”
                var j = i + 1;
                while (j < text.Length && (IsTerminal(text[j]) || IsCloser(text[j])))
                {
                    j++;
                }

                if (j >= text.Length || text[j] == ' ' || text[j] == '\n')
                {
                    boundary = j;
                }
                else if (IsHangulSyllable(text[j]) && EndsWithKoreanFinalEnding(text, i))
                {
                    boundary = j;
                }

                i = j - 1;
            }

            if (boundary > 0)
            {
                if (HasText(text, start, boundary))
                {
                    yield return Trimmed(text, start, boundary);
                }

                start = boundary;
            }

            i++;
        }

        if (HasText(text, start, text.Length))
        {
            yield return Trimmed(text, start, text.Length);
        }
    }

    private static bool IsTerminal(char c) => c is '.' or '!' or '?' or '…' or '。' or '？' or '！';

    private static bool IsCloser(char c) => c is '"' or '\'' or ')' or ']' or '”' or '’' or '」' or '』' or '》' or '〉';

    internal static bool IsHangulSyllable(char c) => c is >= '\uAC00' and <= '\uD7A3';

    /// <summary>The terminal at <paramref name="terminal"/> follows a Korean sentence-final syllable.</summary>
    private static bool EndsWithKoreanFinalEnding(string text, int terminal)
    {
        if (terminal == 0)
        {
            return false;
        }

        var previous = text[terminal - 1];
        // 다 (평서형), 요 (해요체), 죠, 까 (의문), 네, 군, 지, 자 (청유), 라 (명령), 음/함/임/됨 (명사형 종결, common in reports).
        return previous is '다' or '요' or '죠' or '까' or '네' or '군' or '지' or '자' or '라' or '음' or '함' or '임' or '됨';
    }

    private static bool HasText(string text, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            if (!char.IsWhiteSpace(text[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static (int Start, int Length) Trimmed(string text, int start, int end)
    {
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        return (start, end - start);
    }
}
