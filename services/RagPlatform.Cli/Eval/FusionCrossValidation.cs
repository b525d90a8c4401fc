using RagPlatform.Contracts.Http;
using RagPlatform.Core.Search;

namespace RagPlatform.Cli.Eval;

/// <summary>One judged query with the dense and the lexical candidates the server returned for it.</summary>
public sealed record EvaluatedQuery(BeirQuery Query, IReadOnlyList<SearchResult> Dense, IReadOnlyList<SearchResult> Lexical);

/// <summary>One fold: the fusion chosen on the other folds and its metrics on this one.</summary>
public sealed record FoldResult(int Fold, FusionSettings Chosen, RetrievalMetrics HeldOut);

/// <summary>
/// k-fold cross-validation of hybrid fusion: the queries are shuffled once (fixed seed) and dealt into k folds; for
/// each fold the fusion (method and weights, from <see cref="Grid"/>) that scores best on the other folds is
/// measured on it. The held-out metrics, pooled over the folds, are what a fusion tuned on this kind of data
/// scores on queries it was not tuned on. The fusion is <see cref="HybridFusion"/>, the code the server runs,
/// applied to the server's own dense and lexical lists.
/// </summary>
public static class FusionCrossValidation
{
    /// <summary>The candidates tried: each method with the dense weight 1 and a range of lexical weights.</summary>
    public static IReadOnlyList<FusionSettings> Grid { get; } =
    [
        .. from method in new[] { FusionMethod.ZScore, FusionMethod.Weighted, FusionMethod.Rrf }
           from rrfK in method == FusionMethod.Rrf ? new[] { 5.0, 20, 60 } : [60.0]
           from lexical in new[] { 1.0, 1.5, 2, 3, 4, 6, 8, 12 }
           select new FusionSettings(method, 1, lexical, rrfK),
    ];

    /// <summary>Training objective: recall@1 + nDCG@cut-off, then recall@5 (all on the training folds).</summary>
    public static (double Primary, double Secondary) Objective(RetrievalMetrics metrics) =>
        (metrics.Recall(1) + metrics.Ndcg, metrics.RecallCutoffs.Contains(5) ? metrics.Recall(5) : 0);

    public static RetrievalMetrics Measure(IEnumerable<EvaluatedQuery> queries, FusionSettings settings, int depth)
    {
        var metrics = new RetrievalMetrics(depth);
        foreach (var q in queries)
        {
            var fused = HybridFusion.Fuse(q.Dense, q.Lexical, r => r.ChunkId, r => r.Score, settings);
            metrics.Add(fused.Select(f => f.Item.DocumentId), q.Query.Relevant);
        }

        return metrics;
    }

    /// <returns>Each fold's choice and held-out metrics, and the held-out metrics pooled over all folds.</returns>
    public static (IReadOnlyList<FoldResult> Folds, RetrievalMetrics Pooled) Run(
        IReadOnlyList<EvaluatedQuery> queries, int folds, int seed, int depth, IReadOnlyList<FusionSettings>? grid = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(folds, queries.Count);
        grid ??= Grid;
        var order = Enumerable.Range(0, queries.Count).ToArray();
        new Random(seed).Shuffle(order);
        var foldOf = new int[queries.Count];
        for (var i = 0; i < order.Length; i++)
        {
            foldOf[order[i]] = i % folds;
        }

        var results = new List<FoldResult>(folds);
        var pooled = new RetrievalMetrics(depth);
        for (var fold = 0; fold < folds; fold++)
        {
            var training = queries.Where((_, i) => foldOf[i] != fold).ToList();
            var heldOut = queries.Where((_, i) => foldOf[i] == fold).ToList();
            // The first best in grid order wins a tie, so the choice does not depend on anything but the data.
            var best = grid[0];
            var bestScore = (double.MinValue, double.MinValue);
            foreach (var candidate in grid)
            {
                var score = Objective(Measure(training, candidate, depth));
                if (score.CompareTo(bestScore) > 0)
                {
                    (best, bestScore) = (candidate, score);
                }
            }

            results.Add(new FoldResult(fold, best, Measure(heldOut, best, depth)));
            foreach (var q in heldOut)
            {
                var fused = HybridFusion.Fuse(q.Dense, q.Lexical, r => r.ChunkId, r => r.Score, best);
                pooled.Add(fused.Select(f => f.Item.DocumentId), q.Query.Relevant);
            }
        }

        return (results, pooled);
    }
}
