namespace RagPlatform.Sdk;

/// <summary>
/// The platform's lexical analysis, as the host configures it (<c>RagPlatform:Lexical</c>): the Korean-aware terms of a
/// text and the BM25 parameters. Handed to plugins through <see cref="PluginContext.Lexical"/>, so a backend that
/// indexes terms itself (<see cref="IHybridSearchBackend"/>) cuts text exactly as the platform's own lexical index does.
/// </summary>
/// <param name="analyzerId">Names the terms <paramref name="tokenize"/> cuts (the platform's
/// <c>KoreanLexicalTokenizer.AnalyzerId</c>, e.g. <c>ko-bigram/1+words/2</c>): it changes whenever the terms of some
/// text change.</param>
/// <param name="tokenize">The terms of a text, repeats included, in order.</param>
/// <param name="k3">BM25's query-term saturation (see <see cref="QueryTermWeight"/>).</param>
public sealed class LexicalAnalysis(string analyzerId, Func<string, IReadOnlyList<string>> tokenize, double k1 = 1.2, double b = 0.75, double k3 = LexicalAnalysis.DefaultK3)
{
    /// <summary>The platform's default <see cref="K3"/>: a term the query says twice weighs 1⅓, not 2.</summary>
    public const double DefaultK3 = 1;

    /// <summary>
    /// What terms <see cref="Tokenize"/> cuts. A backend that stores terms (<see cref="IHybridSearchBackend"/>)
    /// records it per collection and refuses to search or write a collection another analyzer filled
    /// (<see cref="LexicalAnalyzerMismatchException"/>): its stored terms would silently miss the new ones.
    /// </summary>
    public string AnalyzerId { get; } = string.IsNullOrWhiteSpace(analyzerId)
        ? throw new ArgumentException("A lexical analysis must name its analyzer.", nameof(analyzerId))
        : analyzerId;

    /// <summary>BM25 term-frequency saturation.</summary>
    public double K1 { get; } = k1;

    /// <summary>BM25 length normalisation (0 = none, 1 = full).</summary>
    public double B { get; } = b;

    /// <summary>BM25 query-term saturation: how much a term the query repeats weighs (see <see cref="QueryTermWeight"/>).</summary>
    public double K3 { get; } = k3;

    /// <summary>
    /// The weight of a term a query holds <paramref name="count"/> times: Okapi BM25's (k3 + 1)·count / (k3 + count),
    /// 1 for a term said once, approaching count as k3 grows (k3 = 0: every term once). Korean sentence queries repeat
    /// bigrams of their function words and shared stems ("어떠한 … 어떠한", "지방은행 … 시중은행"); counted in
    /// full, those outweighed the query's rarer content words. Every lexical index (embedded, PostgreSQL, a backend's
    /// sparse vectors) weighs query terms with this one function, so they rank alike.
    /// </summary>
    public static double QueryTermWeight(int count, double k3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return (k3 + 1) * count / (k3 + count);
    }

    /// <summary>Each distinct term of a query's <paramref name="terms"/> once, in first-seen order (so a chunk's
    /// score sums in the same order in every index), weighted by <see cref="QueryTermWeight"/>.</summary>
    public static List<(string Term, double Weight)> WeighQueryTerms(IReadOnlyList<string> terms, double k3)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var counts = new Dictionary<string, int>(terms.Count, StringComparer.Ordinal);
        var order = new List<string>(terms.Count);
        foreach (var term in terms)
        {
            if (counts.TryGetValue(term, out var count))
            {
                counts[term] = count + 1;
            }
            else
            {
                counts[term] = 1;
                order.Add(term);
            }
        }

        return order.ConvertAll(term => (term, QueryTermWeight(counts[term], k3)));
    }

    /// <summary>The distinct terms of the query <paramref name="text"/>, weighted (<see cref="WeighQueryTerms"/> with <see cref="K3"/>).</summary>
    public List<(string Term, double Weight)> QueryTerms(string? text) => WeighQueryTerms(Tokenize(text), K3);

    /// <summary>The terms of <paramref name="text"/>, repeats included.</summary>
    public IReadOnlyList<string> Tokenize(string? text) => string.IsNullOrEmpty(text) ? [] : tokenize(text);

    /// <summary>The text a chunk is indexed by: its title (when it has one) and its text, so a chunk deep in a
    /// document still answers to the document's name. The platform's lexical index reads the same.</summary>
    public static string IndexedText(PointPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return string.IsNullOrEmpty(payload.Title) ? payload.Text : payload.Title + "\n" + payload.Text;
    }
}

/// <summary>A lexical (BM25) search over a collection's chunks.</summary>
public sealed record LexicalQuery(string Text, int TopK, VectorFilter? Filter = null);

/// <summary>
/// A hybrid search: the best <see cref="CandidateDepth"/> dense and lexical candidates, each filtered, fused by weighted
/// reciprocal-rank fusion: a chunk at 1-based rank r on a side adds weight / (<see cref="RrfK"/> + r); the best
/// <see cref="TopK"/> by the sum come back, their fused sums as scores.
/// </summary>
public sealed record HybridQuery(
    float[] Vector,
    string Text,
    int TopK,
    int CandidateDepth,
    double DenseWeight,
    double LexicalWeight,
    double RrfK,
    VectorFilter? Filter = null);

/// <summary>
/// Optional: a backend that keeps each chunk's lexical terms beside its vector (e.g. as a sparse BM25 vector) and
/// answers lexical and hybrid searches itself. A collection on such a backend needs no separate lexical index: the
/// host neither writes one for it nor reads one. Terms come from <see cref="PluginContext.Lexical"/> and
/// <see cref="LexicalAnalysis.IndexedText"/>, so every write path (ingestion, migration, restore) indexes them.
/// </summary>
public interface IHybridSearchBackend
{
    /// <summary>The <see cref="LexicalQuery.TopK"/> best chunks by BM25 that pass the filter, best first.</summary>
    Task<IReadOnlyList<VectorSearchHit>> SearchLexicalAsync(string collection, LexicalQuery query, CancellationToken cancellationToken);

    /// <summary>The <see cref="HybridQuery.TopK"/> best chunks by the fused ranking, best first.</summary>
    Task<IReadOnlyList<VectorSearchHit>> SearchHybridAsync(string collection, HybridQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Cuts the terms of every chunk the collection holds again with this backend's <see cref="LexicalAnalysis"/> and
    /// records its <see cref="LexicalAnalysis.AnalyzerId"/> as the collection's (<c>rag lexical rebuild</c>): the way
    /// out of a <see cref="LexicalAnalyzerMismatchException"/>. Offline: nothing else may write the collection meanwhile.
    /// Returns the number of chunks.
    /// </summary>
    Task<long> RebuildLexicalAsync(string collection, CancellationToken cancellationToken);
}

/// <summary>
/// A collection's lexical terms were cut by another analyzer than this process's (<see cref="LexicalAnalysis.AnalyzerId"/>):
/// searching it would silently miss every term the two cut differently, writing it would mix the two. The host answers
/// 409 with this message, which names both analyzers and the fix. One type for every index that stores terms (the
/// PostgreSQL lexical index, a backend's sparse vectors), so the problem reads the same wherever the terms live.
/// </summary>
public sealed class LexicalAnalyzerMismatchException(string collection, string recordedAnalyzer, string currentAnalyzer)
    : InvalidOperationException(
        $"The lexical index of collection '{collection}' was built by analyzer '{recordedAnalyzer}', but this process cuts terms with " +
        $"'{currentAnalyzer}' (RagPlatform:Lexical:WordTerms and :ParticleStems): its terms would not match. " +
        $"Run `rag lexical rebuild --collection {collection}` to index it again with this analyzer, or configure the one it was built with.")
{
    public string Collection { get; } = collection;

    /// <summary>The analyzer that cut the collection's stored terms.</summary>
    public string RecordedAnalyzer { get; } = recordedAnalyzer;

    /// <summary>This process's analyzer.</summary>
    public string CurrentAnalyzer { get; } = currentAnalyzer;
}
