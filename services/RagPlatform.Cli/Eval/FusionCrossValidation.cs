using System.Globalization;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Search;

namespace RagPlatform.Cli.Eval;

/// <summary>One judged query with the dense and the lexical candidates the server returned for it.</summary>
public sealed record EvaluatedQuery(BeirQuery Query, IReadOnlyList<SearchResult> Dense, IReadOnlyList<SearchResult> Lexical);

/// <summary>
/// The lists of every judged query under one server setting of the lexical index (BM25's k1 and b): what
/// cross-validation can choose between besides the fusion. <paramref name="Name"/> says which setting it was.
/// </summary>
public sealed record EvaluatedSetting(string Name, IReadOnlyList<EvaluatedQuery> Queries);

/// <summary>A setting of the lexical index (by name) and the fusion over its lists.</summary>
public readonly record struct CrossValidationChoice(string Setting, FusionSettings Fusion)
{
    public override string ToString() => Setting.Length == 0 ? Fusion.ToString() : $"{Setting}, {Fusion}";
}

/// <summary>One fold: the choice made on the other folds and its metrics on this one.</summary>
public sealed record FoldResult(int Fold, CrossValidationChoice Chosen, RetrievalMetrics HeldOut);

/// <summary>BM25's parameters for one measured setting of <c>rag eval --bm25</c>; <see cref="K3"/> null leaves the platform's.</summary>
public readonly record struct Bm25Setting(double K1, double B, double? K3 = null)
{
    /// <summary><c>K1:B</c> or <c>K1:B:K3</c>, e.g. <c>1.2:0.75</c> or <c>1.2:0.75:1</c>; null when it is not two or three
    /// numbers in BM25's ranges (k1 0–10, b 0–1, k3 0–10,000).</summary>
    public static Bm25Setting? Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is not (2 or 3)
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var k1) || k1 is < 0 or > 10
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var b) || b is < 0 or > 1)
        {
            return null;
        }

        if (parts.Length == 2)
        {
            return new Bm25Setting(k1, b);
        }

        return double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var k3) && k3 is >= 0 and <= 10_000
            ? new Bm25Setting(k1, b, k3)
            : null;
    }

    /// <summary>The platform settings that select it (RagPlatform:Lexical:K1, :B and, when given, :K3).</summary>
    public IReadOnlyList<string> Arguments =>
    [
        string.Create(CultureInfo.InvariantCulture, $"--RagPlatform:Lexical:K1={K1}"),
        string.Create(CultureInfo.InvariantCulture, $"--RagPlatform:Lexical:B={B}"),
        .. K3 is { } k3 ? [string.Create(CultureInfo.InvariantCulture, $"--RagPlatform:Lexical:K3={k3}")] : Array.Empty<string>(),
    ];

    public override string ToString() => K3 is { } k3
        ? string.Create(CultureInfo.InvariantCulture, $"bm25 k1={K1:0.###} b={B:0.###} k3={k3:0.###}")
        : string.Create(CultureInfo.InvariantCulture, $"bm25 k1={K1:0.###} b={B:0.###}");
}

/// <summary>
/// k-fold cross-validation of hybrid search: the queries are shuffled once (fixed seed) and dealt into k folds; for
/// each fold the candidate — a fusion (method and weights, from <see cref="Grid"/>), and with several lexical
/// settings measured, which of them — that scores best on the other folds is measured on it. The held-out
/// metrics, pooled over the folds, are what a search tuned on this kind of data scores on queries it was not
/// tuned on. The fusion is <see cref="HybridFusion"/>, the code the server runs, applied to the server's own
/// dense and lexical lists.
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
            metrics.Add(Fuse(q, settings), q.Query.Relevant);
        }

        return metrics;
    }

    /// <summary>Cross-validates the fusion alone, over one setting's lists.</summary>
    public static (IReadOnlyList<FoldResult> Folds, RetrievalMetrics Pooled) Run(
        IReadOnlyList<EvaluatedQuery> queries, int folds, int seed, int depth, IReadOnlyList<FusionSettings>? grid = null) =>
        Run([new EvaluatedSetting(string.Empty, queries)], folds, seed, depth, grid);

    /// <summary>Cross-validates the lexical setting and the fusion together: every setting's lists hold the same
    /// queries in the same order, and each fold chooses one setting and one fusion.</summary>
    /// <returns>Each fold's choice and held-out metrics, and the held-out metrics pooled over all folds.</returns>
    public static (IReadOnlyList<FoldResult> Folds, RetrievalMetrics Pooled) Run(
        IReadOnlyList<EvaluatedSetting> settings, int folds, int seed, int depth, IReadOnlyList<FusionSettings>? grid = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(settings.Count);
        var count = settings[0].Queries.Count;
        if (settings.Any(s => s.Queries.Count != count))
        {
            throw new ArgumentException("Every setting must hold the same queries.", nameof(settings));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(folds, count);
        grid ??= Grid;
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        var foldOf = new int[count];
        for (var i = 0; i < order.Length; i++)
        {
            foldOf[order[i]] = i % folds;
        }

        var results = new List<FoldResult>(folds);
        var pooled = new RetrievalMetrics(depth);
        for (var fold = 0; fold < folds; fold++)
        {
            // The first best in order (settings as given, then the grid) wins a tie, so the choice depends on nothing but the data.
            var best = (Setting: settings[0], Fusion: grid[0]);
            var bestScore = (double.MinValue, double.MinValue);
            foreach (var setting in settings)
            {
                var training = setting.Queries.Where((_, i) => foldOf[i] != fold).ToList();
                foreach (var candidate in grid)
                {
                    var score = Objective(Measure(training, candidate, depth));
                    if (score.CompareTo(bestScore) > 0)
                    {
                        (best, bestScore) = ((setting, candidate), score);
                    }
                }
            }

            var heldOut = best.Setting.Queries.Where((_, i) => foldOf[i] == fold).ToList();
            results.Add(new FoldResult(fold, new CrossValidationChoice(best.Setting.Name, best.Fusion), Measure(heldOut, best.Fusion, depth)));
            foreach (var q in heldOut)
            {
                pooled.Add(Fuse(q, best.Fusion), q.Query.Relevant);
            }
        }

        return (results, pooled);
    }

    private static IEnumerable<string> Fuse(EvaluatedQuery query, FusionSettings settings) =>
        HybridFusion.Fuse(query.Dense, query.Lexical, r => r.ChunkId, r => r.Score, settings).Select(f => f.Item.DocumentId);
}
