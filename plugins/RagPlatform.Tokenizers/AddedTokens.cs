namespace RagPlatform.Tokenizers;

/// <summary>An entry of tokenizer.json's "added_tokens" (special tokens and user additions).</summary>
internal sealed record AddedToken(string Content, int Id, bool LeftStrip, bool RightStrip, bool Special, bool Normalized);

/// <summary>
/// Cuts a text at occurrences of added tokens, scanning left to right and taking the longest token that starts at
/// each position (transformers.js's DictionarySplitter), so a literal "[CLS]" in a text is that special token.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, AddedToken[]> byFirstChar;

    public AddedTokenSplitter(IEnumerable<(string Content, AddedToken Token)> tokens)
    {
        byFirstChar = tokens
            .Where(entry => entry.Content.Length > 0)
            .GroupBy(entry => entry.Content[0])
            .ToDictionary(
                group => group.Key,
                group => group.OrderByDescending(entry => entry.Content.Length).Select(entry => entry.Token with { Content = entry.Content }).ToArray());
    }

    public bool IsEmpty => byFirstChar.Count == 0;

    /// <summary>Appends the pieces of <paramref name="text"/>: plain text (token null) or an added token.</summary>
    public void Split(string text, List<(string Text, AddedToken? Token)> output)
    {
        int start = 0;
        for (int i = 0; i < text.Length;)
        {
            AddedToken? match = null;
            if (byFirstChar.TryGetValue(text[i], out var candidates))
            {
                foreach (var candidate in candidates)
                {
                    if (string.CompareOrdinal(text, i, candidate.Content, 0, candidate.Content.Length) == 0 &&
                        i + candidate.Content.Length <= text.Length)
                    {
                        match = candidate;
                        break;
                    }
                }
            }

            if (match is null)
            {
                i++;
                continue;
            }

            if (i > start)
            {
                output.Add((text[start..i], null));
            }

            output.Add((match.Content, match));
            i += match.Content.Length;
            start = i;
        }

        if (start < text.Length)
        {
            output.Add((start == 0 ? text : text[start..], null));
        }
    }

    /// <summary>lstrip / rstrip: an added token eats the whitespace on that side of it.</summary>
    public static void ApplyStrips(List<(string Text, AddedToken? Token)> pieces)
    {
        for (int i = 0; i < pieces.Count; i++)
        {
            var token = pieces[i].Token;
            if (token is null)
            {
                continue;
            }

            if (token.LeftStrip && i > 0)
            {
                pieces[i - 1] = (TextRules.TrimEndJs(pieces[i - 1].Text), pieces[i - 1].Token);
            }

            if (token.RightStrip && i < pieces.Count - 1)
            {
                pieces[i + 1] = (TextRules.TrimStartJs(pieces[i + 1].Text), pieces[i + 1].Token);
            }
        }
    }
}
