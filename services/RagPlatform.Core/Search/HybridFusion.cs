using System.Globalization;

namespace RagPlatform.Core.Search;

/// <summary>How hybrid search merges its dense and lexical candidate lists (<c>RagPlatform:Query:Fusion</c>).</summary>
public enum FusionMethod
{
    /// <summary>Weighted reciprocal-rank fusion: a chunk at 1-based rank r on a side adds weight / (k + r).
    /// Scores are ignored, so a side that is sure of its first hit counts no more than one that is guessing.</summary>
    Rrf,

    /// <summary>Each side's scores min-max normalised over its candidates, weighted and summed.</summary>
    Weighted,

    /// <summary>
    /// Each side's scores standardised over its candidates ((score − mean) / standard deviation), weighted and
    /// summed; a chunk a side did not return counts as one standard deviation below that side's lowest candidate. The standardised score is a
    /// per-query confidence from the shape of each side's scores: a list whose first hit stands far above the rest
    /// gives it a large z (up to √(n−1) for n candidates), a list that spreads its candidates evenly gives none more
    /// than about 1.7, so the side that singles out an answer outweighs one that does not, and near-ties on one
    /// side are broken by the other. Unlike reciprocal-rank fusion, two first places are not worth the same.
    /// </summary>
    ZScore,
}

/// <summary>The fusion and its parameters.</summary>
/// <param name="RrfK">The k of reciprocal-rank fusion (<see cref="FusionMethod.Rrf"/> only).</param>
public readonly record struct FusionSettings(FusionMethod Method, double DenseWeight, double LexicalWeight, double RrfK = 60)
{
    /// <summary><c>rrf</c>, <c>weighted</c> or <c>zscore</c>, case-insensitive.</summary>
    public static FusionMethod ParseMethod(string? name) => name?.ToLowerInvariant() switch
    {
        "rrf" => FusionMethod.Rrf,
        "weighted" => FusionMethod.Weighted,
        "zscore" => FusionMethod.ZScore,
        _ => throw new ArgumentException($"Fusion '{name}' is not one of rrf, weighted, zscore.", nameof(name)),
    };

    public override string ToString() => Method switch
    {
        FusionMethod.Rrf => string.Create(CultureInfo.InvariantCulture, $"rrf k={RrfK:0.##} dense={DenseWeight:0.##} lexical={LexicalWeight:0.##}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Method.ToString().ToLowerInvariant()} dense={DenseWeight:0.##} lexical={LexicalWeight:0.##}"),
    };
}

/// <summary>
/// Merges a dense and a lexical ranking of the same chunks into one. The search service fuses with it (for every
/// backend that returns the two lists) and <c>rag eval</c> tunes and measures it on the same lists offline, so
/// what is measured is what runs. Ties go to the item id (ordinal), so the order is stable.
/// </summary>
public static class HybridFusion
{
    /// <summary>How far below a side's lowest candidate, in its standard deviations, <see cref="FusionMethod.ZScore"/>
    /// puts an item that side did not return. On AutoRAG-ko and ko-notes 0 and 1 rank the same top ten.</summary>
    public const double AbsentBelowLowest = 1;

    /// <param name="dense">Dense candidates, best first.</param>
    /// <param name="lexical">Lexical candidates, best first.</param>
    /// <returns>Every item of either list once (the dense list's instance when both have it), with its fused score, best first.</returns>
    public static List<(T Item, double Score)> Fuse<T>(
        IReadOnlyList<T> dense, IReadOnlyList<T> lexical, Func<T, string> id, Func<T, double> score, FusionSettings settings)
    {
        var fused = new Dictionary<string, (T Item, double Dense, double Lexical)>(StringComparer.Ordinal);
        var denseFloor = Add(dense, settings.DenseWeight, isDense: true);
        var lexicalFloor = Add(lexical, settings.LexicalWeight, isDense: false);

        var result = new List<(T Item, double Score)>(fused.Count);
        foreach (var (_, (item, d, l)) in fused)
        {
            result.Add((item, (double.IsNaN(d) ? denseFloor : d) + (double.IsNaN(l) ? lexicalFloor : l)));
        }

        result.Sort((a, b) =>
        {
            var byScore = b.Score.CompareTo(a.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(id(a.Item), id(b.Item));
        });
        return result;

        // Each item's contribution from one side; returns what an item the side did not return gets.
        double Add(IReadOnlyList<T> hits, double weight, bool isDense)
        {
            if (hits.Count == 0 || weight == 0)
            {
                return 0;
            }

            var (scale, offset, floor) = Normalisation(hits, score, settings.Method);
            for (var rank = 0; rank < hits.Count; rank++)
            {
                var hit = hits[rank];
                var contribution = settings.Method == FusionMethod.Rrf
                    ? weight / (settings.RrfK + rank + 1)
                    : weight * (score(hit) - offset) * scale;
                var key = id(hit);
                if (!fused.TryGetValue(key, out var held))
                {
                    held = (hit, double.NaN, double.NaN);
                }
                else if (!double.IsNaN(isDense ? held.Dense : held.Lexical))
                {
                    continue; // a repeated id keeps its better (first) rank
                }

                fused[key] = isDense ? (held.Item, contribution, held.Lexical) : (held.Item, held.Dense, contribution);
            }

            return weight * floor;
        }
    }

    /// <summary>normalised = (score − offset) × scale; floor is the normalised value of an item the side did not return.</summary>
    private static (double Scale, double Offset, double Floor) Normalisation<T>(IReadOnlyList<T> hits, Func<T, double> score, FusionMethod method)
    {
        switch (method)
        {
            case FusionMethod.Weighted:
            {
                var max = double.MinValue;
                var min = double.MaxValue;
                foreach (var hit in hits)
                {
                    max = Math.Max(max, score(hit));
                    min = Math.Min(min, score(hit));
                }

                // One candidate, or all equal: each gets the full weight (as before this class existed).
                return max > min ? (1 / (max - min), min, 0) : (1, min - 1, 0);
            }

            case FusionMethod.ZScore:
            {
                var mean = 0.0;
                foreach (var hit in hits)
                {
                    mean += score(hit);
                }

                mean /= hits.Count;
                var variance = 0.0;
                var min = double.MaxValue;
                foreach (var hit in hits)
                {
                    var s = score(hit);
                    variance += (s - mean) * (s - mean);
                    min = Math.Min(min, s);
                }

                var deviation = Math.Sqrt(variance / hits.Count);
                // An item the side did not return scored below all it did: one standard deviation below its lowest
                // candidate. At the lowest candidate's own value, a chunk without a single query term would tie the
                // weakest lexical match and, on a small collection, pass it on dense noise alone. No spread, no
                // information: the side then orders nothing.
                return deviation > 1e-12 ? (1 / deviation, mean, ((min - mean) / deviation) - AbsentBelowLowest) : (0, 0, 0);
            }

            default:
                return (0, 0, 0);
        }
    }
}
