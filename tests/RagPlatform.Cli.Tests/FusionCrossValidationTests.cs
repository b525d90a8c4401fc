using RagPlatform.Cli.Eval;
using RagPlatform.Contracts.Http;
using RagPlatform.Core.Search;

namespace RagPlatform.Cli.Tests;

public sealed class FusionCrossValidationTests
{
    private static SearchResult Hit(string document, float score) =>
        new(document, document + "#0", null, string.Empty, score, [], new Dictionary<string, System.Text.Json.JsonElement>());

    /// <summary>Queries where lexical ranks the right document first by a wide margin and dense ranks it last:
    /// any fusion that weighs lexical enough gets every one right; an equal-weight RRF gets none.</summary>
    private static List<EvaluatedQuery> LexicalIsRight(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => new EvaluatedQuery(
            new BeirQuery("q" + i, "query", new HashSet<string> { "right" }),
            [Hit("wrong", 0.9f), Hit("other", 0.8f), Hit("right", 0.7f)],
            [Hit("right", 20f), Hit("wrong", 2f), Hit("other", 1f)])),
    ];

    [Fact]
    public void Every_query_is_held_out_exactly_once()
    {
        var (folds, pooled) = FusionCrossValidation.Run(LexicalIsRight(23), folds: 5, seed: 15, depth: 10);

        Assert.Equal(5, folds.Count);
        Assert.Equal(23, folds.Sum(f => f.HeldOut.Queries));
        Assert.Equal(23, pooled.Queries);
        Assert.Equal([5, 5, 5, 4, 4], folds.Select(f => f.HeldOut.Queries));
    }

    [Fact]
    public void Each_fold_chooses_what_scores_best_on_the_other_folds()
    {
        var grid = new[] { new FusionSettings(FusionMethod.Rrf, 1, 1), new FusionSettings(FusionMethod.ZScore, 1, 3) };

        var (folds, pooled) = FusionCrossValidation.Run(LexicalIsRight(10), folds: 2, seed: 1, depth: 10, grid);

        Assert.All(folds, f => Assert.Equal(grid[1], f.Chosen.Fusion));
        Assert.Equal(1.0, pooled.Recall(1));
        Assert.Equal(0.0, FusionCrossValidation.Measure(LexicalIsRight(10), grid[0], 10).Recall(1));
    }

    [Fact]
    public void Each_fold_chooses_the_lexical_setting_whose_lists_score_best_on_the_other_folds()
    {
        // Under "b=0.3" lexical ranks the right document last, so no fusion gets it first; under "b=0.9" it is first.
        var wrong = LexicalIsRight(10).Select(q => q with { Lexical = [Hit("wrong", 20f), Hit("other", 2f), Hit("right", 1f)] }).ToList();
        var settings = new[] { new EvaluatedSetting("b=0.3", wrong), new EvaluatedSetting("b=0.9", LexicalIsRight(10)) };

        var (folds, pooled) = FusionCrossValidation.Run(settings, folds: 2, seed: 1, depth: 10);

        Assert.All(folds, f => Assert.Equal("b=0.9", f.Chosen.Setting));
        Assert.Equal(1.0, pooled.Recall(1));
    }

    [Fact]
    public void Settings_must_hold_the_same_queries()
    {
        var settings = new[] { new EvaluatedSetting("a", LexicalIsRight(10)), new EvaluatedSetting("b", LexicalIsRight(9)) };

        Assert.Throws<ArgumentException>(() => FusionCrossValidation.Run(settings, folds: 2, seed: 1, depth: 10));
    }

    [Theory]
    [InlineData("1.2:0.75", 1.2, 0.75)]
    [InlineData("0.9:0.4", 0.9, 0.4)]
    [InlineData("0:0", 0.0, 0.0)]
    public void Bm25_setting_parses_k1_and_b(string text, double k1, double b)
    {
        Assert.Equal(new Bm25Setting(k1, b), Bm25Setting.Parse(text));
    }

    [Theory]
    [InlineData("1.2:0.75:1", 1.0)]
    [InlineData("0.9:0.4:1000", 1000.0)]
    [InlineData("1.2:0.75:0", 0.0)]
    public void Bm25_setting_parses_an_optional_query_term_saturation(string text, double k3)
    {
        var setting = Bm25Setting.Parse(text);

        Assert.Equal(k3, setting?.K3);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--RagPlatform:Lexical:K3={k3}"), setting!.Value.Arguments);
    }

    [Theory]
    [InlineData("1.2")]
    [InlineData("1.2:0.75:1:2")]
    [InlineData("1.2:0.75:-1")]
    [InlineData("1.2:0.75:20000")]
    [InlineData("11:0.5")]
    [InlineData("1.2:1.5")]
    [InlineData("a:b")]
    public void Bm25_setting_outside_its_ranges_is_refused(string text)
    {
        Assert.Null(Bm25Setting.Parse(text));
    }

    [Fact]
    public void The_same_seed_deals_the_same_folds()
    {
        var queries = LexicalIsRight(17);

        var first = FusionCrossValidation.Run(queries, 4, 7, 10).Folds.Select(f => (f.Chosen, f.HeldOut.Queries)).ToList();
        var second = FusionCrossValidation.Run(queries, 4, 7, 10).Folds.Select(f => (f.Chosen, f.HeldOut.Queries)).ToList();

        Assert.Equal(first, second);
    }
}
