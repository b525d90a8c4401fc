namespace RagPlatform.Tokenizers;

/// <summary>
/// WordPiece: each word split greedily into the longest vocabulary pieces, pieces after the first carrying the
/// continuing-subword prefix ("##"); a word with an unmatchable rest, or longer than max_input_chars_per_word
/// code points, becomes the unknown token as a whole.
/// </summary>
internal sealed class WordPieceModel(Vocabulary vocabulary, int unknownId, string prefix, int maxInputCharsPerWord)
    : TokenizerModel
{
    public override void Encode(List<Segment> words, List<int> ids, EncodeScratch scratch)
    {
        foreach (var word in words)
        {
            EncodeWord(word.Span, ids, scratch);
        }
    }

    private void EncodeWord(ReadOnlySpan<char> word, List<int> ids, EncodeScratch scratch)
    {
        if (word.Length > maxInputCharsPerWord && CountCodePoints(word) > maxInputCharsPerWord)
        {
            ids.Add(unknownId);
            return;
        }

        char[] buffer = scratch.Chars(prefix.Length + word.Length);
        prefix.CopyTo(buffer);
        int mark = ids.Count;
        int start = 0;
        while (start < word.Length)
        {
            int prefixLength = start > 0 ? prefix.Length : 0;
            int end = Math.Min(word.Length, start + vocabulary.MaxTokenLength - prefixLength);
            int found = -1;
            while (end > start)
            {
                if (end < word.Length && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1]))
                {
                    end--; // pieces end on code point boundaries
                    continue;
                }

                ReadOnlySpan<char> piece;
                if (prefixLength > 0)
                {
                    word[start..end].CopyTo(buffer.AsSpan(prefixLength));
                    piece = buffer.AsSpan(0, prefixLength + end - start);
                }
                else
                {
                    piece = word[start..end];
                }

                if (vocabulary.TryGetId(piece, out found))
                {
                    break;
                }

                found = -1;
                end--;
            }

            if (found < 0)
            {
                ids.RemoveRange(mark, ids.Count - mark);
                ids.Add(unknownId);
                return;
            }

            ids.Add(found);
            start = end;
        }
    }

    private static int CountCodePoints(ReadOnlySpan<char> text)
    {
        int count = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (!(char.IsLowSurrogate(text[i]) && i > 0 && char.IsHighSurrogate(text[i - 1])))
            {
                count++;
            }
        }

        return count;
    }
}

/// <summary>A tokenizer.json "model": pre-tokenized words of one text section in, token ids out.</summary>
internal abstract class TokenizerModel
{
    public abstract void Encode(List<Segment> words, List<int> ids, EncodeScratch scratch);
}
