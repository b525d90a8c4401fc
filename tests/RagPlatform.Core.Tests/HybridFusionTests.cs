using RagPlatform.Core.Search;

namespace RagPlatform.Core.Tests;

public sealed class HybridFusionTests
{
    private static List<(string Id, double Score)> Hits(params (string Id, double Score)[] hits) => [.. hits];

    private static string[] Order(List<(string Id, double Score)> dense, List<(string Id, double Score)> lexical, FusionSettings settings) =>
        [.. HybridFusion.Fuse(dense, lexical, h => h.Id, h => h.Score, settings).Select(f => f.Item.Id)];

    [Fact]
    public void Zscore_lets_a_confident_lexical_side_outweigh_a_flat_dense_side()
    {
        // BM25 is sure of "a" (an outlier far above the rest: z near its maximum, √(n−1) = 3); the cosine list
        // spreads its candidates evenly (no z above 1.6) and prefers "b". RRF at equal weights sees two first
        // places alike and lets "b", second on the other side, win; the z-scores let the outlier win.
        var lexical = Hits(("a", 30), ("b", 6), ("c", 5.9), ("d", 5.8), ("e", 5.7), ("f", 5.6), ("g", 5.5), ("h", 5.4), ("i", 5.3), ("j", 5.2));
        var dense = Hits(("b", 0.52), ("c", 0.51), ("d", 0.50), ("e", 0.49), ("f", 0.48), ("g", 0.47), ("h", 0.46), ("i", 0.45), ("j", 0.44), ("a", 0.43));

        Assert.Equal("a", Order(dense, lexical, new(FusionMethod.ZScore, 1, 1))[0]);
        Assert.Equal("b", Order(dense, lexical, new(FusionMethod.Rrf, 1, 1))[0]);
    }

    [Fact]
    public void Zscore_lets_the_dense_side_break_a_lexical_near_tie()
    {
        var lexical = Hits(("a", 10.1), ("b", 10.0), ("c", 2), ("d", 1.5), ("e", 1));
        var dense = Hits(("b", 0.9), ("e", 0.3), ("a", 0.2), ("c", 0.1), ("d", 0.1));

        Assert.Equal(["b", "a"], Order(dense, lexical, new(FusionMethod.ZScore, 1, 3)).Take(2));
    }

    [Fact]
    public void A_chunk_one_side_did_not_return_counts_one_deviation_below_that_sides_lowest_candidate()
    {
        // "x" is only in the dense list; in the lexical z-sum it gets one less than the lowest lexical z, not
        // zero (the lexical mean, above half of the lexical candidates) nor a tie with the weakest match.
        var lexical = Hits(("a", 9), ("b", 5), ("c", 1));
        var dense = Hits(("x", 0.8), ("a", 0.5), ("b", 0.4), ("c", 0.3));
        var fused = HybridFusion.Fuse(dense, lexical, h => h.Id, h => h.Score, new(FusionMethod.ZScore, 1, 1))
            .ToDictionary(f => f.Item.Id, f => f.Score);

        Assert.Equal(fused["c"] - ZDense(dense, 0.3) + ZDense(dense, 0.8) - HybridFusion.AbsentBelowLowest, fused["x"], 9);
    }

    private static double ZDense(List<(string Id, double Score)> hits, double score)
    {
        var mean = hits.Average(h => h.Score);
        var deviation = Math.Sqrt(hits.Average(h => (h.Score - mean) * (h.Score - mean)));
        return (score - mean) / deviation;
    }

    [Fact]
    public void Rrf_adds_weight_over_k_plus_rank_from_each_side()
    {
        var fused = HybridFusion.Fuse(Hits(("a", 0.9), ("b", 0.8)), Hits(("b", 7), ("a", 3)), h => h.Id, h => h.Score,
            new(FusionMethod.Rrf, 1, 4, 60)).ToDictionary(f => f.Item.Id, f => f.Score);

        Assert.Equal(1.0 / 61 + 4.0 / 62, fused["a"], 12);
        Assert.Equal(1.0 / 62 + 4.0 / 61, fused["b"], 12);
    }

    [Fact]
    public void Weighted_min_max_gives_a_lone_candidate_the_full_weight()
    {
        var fused = HybridFusion.Fuse(Hits(("a", 0.4)), Hits(("a", 2), ("b", 1)), h => h.Id, h => h.Score,
            new(FusionMethod.Weighted, 1, 2)).ToDictionary(f => f.Item.Id, f => f.Score);

        Assert.Equal(3, fused["a"], 12);
        Assert.Equal(0, fused["b"], 12);
    }

    [Theory]
    [InlineData(FusionMethod.ZScore)]
    [InlineData(FusionMethod.Rrf)]
    [InlineData(FusionMethod.Weighted)]
    public void Equal_scores_are_ordered_by_id_and_every_item_appears_once(FusionMethod method)
    {
        var order = Order(Hits(("b", 1), ("a", 1)), Hits(("a", 1), ("b", 1), ("c", 1)), new(method, 1, 1));

        Assert.Equal(3, order.Length);
        Assert.Equal(order.Distinct().Count(), order.Length);
        Assert.Equal(["a", "b"], order.Take(2));
    }

    [Fact]
    public void A_side_with_weight_zero_or_no_hits_orders_nothing()
    {
        var lexical = Hits(("a", 5), ("b", 4), ("c", 1));
        var dense = Hits(("c", 0.9), ("b", 0.5), ("a", 0.1));

        Assert.Equal(["a", "b", "c"], Order(dense, lexical, new(FusionMethod.ZScore, 0, 1)));
        Assert.Equal(["a", "b", "c"], Order([], lexical, new(FusionMethod.ZScore, 1, 1)));
    }

    [Theory]
    [InlineData("zscore", FusionMethod.ZScore)]
    [InlineData("RRF", FusionMethod.Rrf)]
    [InlineData("Weighted", FusionMethod.Weighted)]
    public void Fusion_names_parse_case_insensitively(string name, FusionMethod method)
    {
        Assert.Equal(method, FusionSettings.ParseMethod(name));
    }

    [Fact]
    public void An_unknown_fusion_name_is_refused()
    {
        Assert.Throws<ArgumentException>(() => FusionSettings.ParseMethod("borda"));
    }
}
