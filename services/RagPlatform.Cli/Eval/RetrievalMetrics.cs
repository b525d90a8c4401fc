namespace RagPlatform.Cli.Eval;

/// <summary>
/// Ranking metrics over ranked document lists with binary relevance, averaged over queries:
/// recall@k = |relevant ∩ top k| / |relevant|; MRR@k = 1 / rank of the first relevant document in the top k
/// (0 when none is); nDCG@k = DCG / ideal DCG with gain 1 per relevant document and discount log2(rank + 1).
/// </summary>
public sealed class RetrievalMetrics
{
    private readonly double[] _recallSums;
    private double _reciprocalRankSum;
    private double _ndcgSum;

    /// <param name="depth">The cut-off of MRR and nDCG, and the largest recall cut-off.</param>
    public RetrievalMetrics(int depth = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        Depth = depth;
        RecallCutoffs = [.. new[] { 1, 3, 5, depth }.Where(k => k <= depth).Distinct().Order()];
        _recallSums = new double[RecallCutoffs.Count];
    }

    public int Depth { get; }

    public IReadOnlyList<int> RecallCutoffs { get; }

    public int Queries { get; private set; }

    public double MeanReciprocalRank => Queries == 0 ? 0 : _reciprocalRankSum / Queries;

    public double Ndcg => Queries == 0 ? 0 : _ndcgSum / Queries;

    public double Recall(int cutoff)
    {
        var index = RecallCutoffs.ToList().IndexOf(cutoff);
        if (index < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, $"Recall is kept at {string.Join(", ", RecallCutoffs)}.");
        }

        return Queries == 0 ? 0 : _recallSums[index] / Queries;
    }

    /// <summary>Adds one query: the documents as ranked (repeats after the first are ignored) and the relevant ones.</summary>
    public void Add(IEnumerable<string> ranked, IReadOnlySet<string> relevant)
    {
        ArgumentOutOfRangeException.ThrowIfZero(relevant.Count, nameof(relevant));
        var documents = DistinctDocuments(ranked);
        for (var i = 0; i < RecallCutoffs.Count; i++)
        {
            _recallSums[i] += RecallAt(documents, relevant, RecallCutoffs[i]);
        }

        _reciprocalRankSum += ReciprocalRankAt(documents, relevant, Depth);
        _ndcgSum += NdcgAt(documents, relevant, Depth);
        Queries++;
    }

    /// <summary>
    /// A chunk ranking as a document ranking: each document at the rank of its best (first) chunk. Order is the
    /// server's, never re-sorted, so chunks with equal scores keep the order the server gave them.
    /// </summary>
    public static IReadOnlyList<string> DistinctDocuments(IEnumerable<string> rankedDocumentIds)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. rankedDocumentIds.Where(seen.Add)];
    }

    /// <summary>The rankings below expect distinct documents (see <see cref="DistinctDocuments"/>).</summary>
    public static double RecallAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k) =>
        relevant.Count == 0 ? 0 : (double)ranked.Take(k).Count(relevant.Contains) / relevant.Count;

    public static double ReciprocalRankAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k)
    {
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (relevant.Contains(ranked[i]))
            {
                return 1.0 / (i + 1);
            }
        }

        return 0;
    }

    public static double NdcgAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k)
    {
        var dcg = 0.0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (relevant.Contains(ranked[i]))
            {
                dcg += Discount(i);
            }
        }

        var ideal = 0.0;
        for (var i = 0; i < Math.Min(k, relevant.Count); i++)
        {
            ideal += Discount(i);
        }

        return ideal == 0 ? 0 : dcg / ideal;
    }

    /// <summary>1 / log2(rank + 1) for the 0-based position <paramref name="index"/> (rank = index + 1).</summary>
    private static double Discount(int index) => 1.0 / Math.Log2(index + 2);
}
