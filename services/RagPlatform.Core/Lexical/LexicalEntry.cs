using RagPlatform.Sdk;

namespace RagPlatform.Core.Lexical;

/// <summary>A chunk's terms, counted: what BM25 needs besides the collection's statistics.</summary>
internal sealed class LexicalEntry
{
    private LexicalEntry(string id, PointPayload payload, string[] terms, int[] frequencies, int length)
    {
        Id = id;
        Payload = payload;
        Terms = terms;
        Frequencies = frequencies;
        Length = length;
    }

    public string Id { get; }

    public PointPayload Payload { get; }

    /// <summary>Distinct terms, with their counts at the same index in <see cref="Frequencies"/>.</summary>
    public string[] Terms { get; }

    public int[] Frequencies { get; }

    /// <summary>Document length for BM25: all terms, repeats included.</summary>
    public int Length { get; }

    /// <summary>The title is indexed with the text: a chunk deep in a document still answers to the document's name.</summary>
    public static LexicalEntry Create(string id, PointPayload payload, KoreanLexicalTokenizer tokenizer)
    {
        var tokens = tokenizer.Tokenize(string.IsNullOrEmpty(payload.Title) ? payload.Text : payload.Title + "\n" + payload.Text);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in tokens)
        {
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        return new LexicalEntry(id, payload, [.. counts.Keys], [.. counts.Values], tokens.Count);
    }
}
