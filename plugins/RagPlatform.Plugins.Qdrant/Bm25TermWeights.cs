using System.Text;
using Qdrant.Client.Grpc;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>
/// The platform's lexical terms as a Qdrant sparse vector, so BM25 runs inside Qdrant. A chunk's vector holds, per
/// distinct term, BM25's term-frequency part: tf·(k1+1) / (tf + k1·(1 − b + b·length/averageLength)); a query's
/// holds each distinct term's weight (<see cref="LexicalAnalysis.QueryTermWeight"/>). The collection's sparse vector
/// has Qdrant's IDF modifier, which multiplies each query term by ln(1 + (N − n + 0.5) / (n + 0.5)) over the points
/// that hold it: the dot product is then exactly the platform's BM25 (the embedded lexical index's formula), up to
/// the average length, which here is the one known when the chunk was written.
/// </summary>
/// <remarks>
/// A term's index is the 32-bit FNV-1a hash of its UTF-8 bytes: stable across processes and versions, no
/// vocabulary to keep. Two terms that collide add up as one (among a collection's ~10⁵ distinct Korean bigrams,
/// a handful of pairs, each of rare terms).
/// </remarks>
internal static class Bm25TermWeights
{
    /// <summary>The distinct terms of a chunk's indexed text with their counts, and the text's length in terms.</summary>
    public static (Dictionary<uint, int> Counts, int Length) Count(LexicalAnalysis lexical, string text)
    {
        var terms = lexical.Tokenize(text);
        var counts = new Dictionary<uint, int>(terms.Count);
        foreach (var term in terms)
        {
            var index = IndexOf(term);
            counts[index] = counts.GetValueOrDefault(index) + 1;
        }

        return (counts, terms.Count);
    }

    /// <summary>A chunk's sparse vector; null when it has no terms (the point then has no sparse vector).</summary>
    public static SparseVector? Document(LexicalAnalysis lexical, Dictionary<uint, int> counts, int length, double averageLength)
    {
        if (counts.Count == 0)
        {
            return null;
        }

        var k1 = lexical.K1;
        var norm = k1 * (1 - lexical.B + (lexical.B * length / Math.Max(averageLength, 1e-9)));
        var vector = new SparseVector();
        foreach (var (index, tf) in counts.OrderBy(c => c.Key))
        {
            vector.Indices.Add(index);
            vector.Values.Add((float)(tf * (k1 + 1) / (tf + norm)));
        }

        return vector;
    }

    /// <summary>A query's sparse vector (each distinct term with its weight, <see cref="LexicalAnalysis.QueryTerms"/>), or
    /// null when the query has no terms. Terms whose hashes collide add up, as they do in the chunks' vectors.</summary>
    public static SparseVector? Query(LexicalAnalysis lexical, string text)
    {
        var weights = new Dictionary<uint, double>();
        foreach (var (term, weight) in lexical.QueryTerms(text))
        {
            var index = IndexOf(term);
            weights[index] = weights.GetValueOrDefault(index) + weight;
        }

        if (weights.Count == 0)
        {
            return null;
        }

        var vector = new SparseVector();
        foreach (var (index, weight) in weights.OrderBy(w => w.Key))
        {
            vector.Indices.Add(index);
            vector.Values.Add((float)weight);
        }

        return vector;
    }

    /// <summary>FNV-1a (32 bits) of the term's UTF-8 bytes.</summary>
    public static uint IndexOf(string term)
    {
        const uint offset = 2166136261;
        const uint prime = 16777619;
        Span<byte> buffer = stackalloc byte[64];
        var bytes = Encoding.UTF8.GetByteCount(term) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(term, buffer)] : Encoding.UTF8.GetBytes(term);
        var hash = offset;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * prime;
        }

        return hash;
    }
}
