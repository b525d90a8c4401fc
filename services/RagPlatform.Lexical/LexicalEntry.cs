using RagPlatform.Sdk;

namespace RagPlatform.Lexical;

/// <summary>A chunk's terms, counted: what BM25 needs besides the collection's statistics.</summary>
public sealed class LexicalEntry
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

    /// <summary>Where the collection that holds the entry keeps each term's postings (same index as
    /// <see cref="Terms"/>), so removing the entry needs no term lookups.</summary>
    internal TermPostings[] Postings { get; set; } = [];

    /// <summary>
    /// The title and, for a chunk of a parsed file, its heading path are indexed with the text: a chunk deep in a
    /// document still answers to the document's name and to the headings it sits under.
    /// </summary>
    public static LexicalEntry Create(string id, PointPayload payload, KoreanLexicalTokenizer tokenizer)
    {
        var section = ChunkLocation.Of(payload.Metadata).Section;
        var text = (string.IsNullOrEmpty(payload.Title), string.IsNullOrEmpty(section)) switch
        {
            (true, true) => payload.Text,
            (false, true) => payload.Title + "\n" + payload.Text,
            (true, false) => section + "\n" + payload.Text,
            _ => payload.Title + "\n" + section + "\n" + payload.Text,
        };
        var tokens = tokenizer.Tokenize(text);
        // One counting dictionary per thread, cleared between chunks: entries are created on the consumers'
        // threads, hundreds of terms each, and a fresh dictionary per chunk was garbage at ingestion rate.
        var counts = t_counts ??= new Dictionary<string, int>(StringComparer.Ordinal);
        counts.Clear();
        foreach (var token in tokens)
        {
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        var terms = new string[counts.Count];
        var frequencies = new int[counts.Count];
        var i = 0;
        foreach (var (term, count) in counts)
        {
            terms[i] = term;
            frequencies[i++] = count;
        }

        if (counts.Count > 4096)
        {
            // Do not keep a huge table alive on the thread after an unusually large chunk.
            t_counts = null;
        }

        return new LexicalEntry(id, payload, terms, frequencies, tokens.Count);
    }

    [ThreadStatic]
    private static Dictionary<string, int>? t_counts;
}
