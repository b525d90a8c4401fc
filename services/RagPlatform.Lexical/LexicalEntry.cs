using RagPlatform.Sdk;

namespace RagPlatform.Lexical;

/// <summary>
/// A chunk's terms, counted: what BM25 needs besides the collection's statistics. An entry is built to index a
/// chunk and then let go: the embedded index keeps only the postings, each slot's length and the payload, and
/// finds a removed chunk's terms again with <see cref="CountTerms"/> over its payload.
/// </summary>
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

    public static LexicalEntry Create(string id, PointPayload payload, KoreanLexicalTokenizer tokenizer)
    {
        var counts = CountTerms(payload, tokenizer, out var length);
        var terms = new string[counts.Count];
        var frequencies = new int[counts.Count];
        var i = 0;
        foreach (var (term, count) in counts)
        {
            terms[i] = term;
            frequencies[i++] = count;
        }

        return new LexicalEntry(id, payload, terms, frequencies, length);
    }

    /// <summary>
    /// The one place a chunk's payload becomes counted terms, for indexing and for removing alike, so that a
    /// removal finds exactly the postings the indexing made. The title and, for a chunk of a parsed file, its
    /// heading path are indexed with the text: a chunk deep in a document still answers to the document's name
    /// and to the headings it sits under. The returned table is the calling thread's and is valid until its next
    /// call on that thread: read it, do not keep it.
    /// </summary>
    internal static Dictionary<string, int> CountTerms(PointPayload payload, KoreanLexicalTokenizer tokenizer, out int length)
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
        // One counting table per thread, cleared between chunks: chunks are counted on the consumers' threads,
        // hundreds of terms each, and a fresh dictionary per chunk was garbage at ingestion rate. One grown by an
        // unusually large chunk is replaced rather than kept alive on the thread.
        var counts = t_counts;
        if (counts is null || counts.Count > 4096)
        {
            counts = t_counts = new Dictionary<string, int>(StringComparer.Ordinal);
        }
        else
        {
            counts.Clear();
        }

        foreach (var token in tokens)
        {
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        length = tokens.Count;
        return counts;
    }

    [ThreadStatic]
    private static Dictionary<string, int>? t_counts;
}
