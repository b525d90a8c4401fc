using RagPlatform.Cli.Eval;

namespace RagPlatform.Cli.Tests;

public sealed class RetrievalMetricsTests
{
    private const double Precision = 1e-9;

    private static HashSet<string> Relevant(params string[] ids) => new(ids, StringComparer.Ordinal);

    [Fact]
    public void Relevant_document_first_scores_one_everywhere()
    {
        var metrics = new RetrievalMetrics();
        metrics.Add(["a", "x", "y"], Relevant("a"));

        Assert.Equal([1, 3, 5, 10], metrics.RecallCutoffs);
        Assert.All(metrics.RecallCutoffs, k => Assert.Equal(1.0, metrics.Recall(k), Precision));
        Assert.Equal(1.0, metrics.MeanReciprocalRank, Precision);
        Assert.Equal(1.0, metrics.Ndcg, Precision);
    }

    [Fact]
    public void Relevant_document_third()
    {
        var metrics = new RetrievalMetrics();
        metrics.Add(["x", "y", "a", "z"], Relevant("a"));

        Assert.Equal(0.0, metrics.Recall(1), Precision);
        Assert.Equal(1.0, metrics.Recall(3), Precision);
        Assert.Equal(1.0 / 3, metrics.MeanReciprocalRank, Precision);
        // DCG = 1/log2(4) = 0.5; ideal DCG = 1.
        Assert.Equal(0.5, metrics.Ndcg, Precision);
    }

    [Fact]
    public void Query_whose_relevant_document_is_absent_scores_zero_and_still_counts()
    {
        var metrics = new RetrievalMetrics();
        metrics.Add(["a"], Relevant("a"));
        metrics.Add(["x", "y", "z"], Relevant("missing"));

        Assert.Equal(2, metrics.Queries);
        Assert.Equal(0.5, metrics.Recall(1), Precision);
        Assert.Equal(0.5, metrics.Recall(10), Precision);
        Assert.Equal(0.5, metrics.MeanReciprocalRank, Precision);
        Assert.Equal(0.5, metrics.Ndcg, Precision);
    }

    [Fact]
    public void Several_relevant_documents()
    {
        var ranked = new[] { "a", "x", "b", "y", "c" };
        var relevant = Relevant("a", "b", "c", "d");
        var metrics = new RetrievalMetrics();
        metrics.Add(ranked, relevant);

        Assert.Equal(0.25, metrics.Recall(1), Precision);
        Assert.Equal(0.5, metrics.Recall(3), Precision);
        Assert.Equal(0.75, metrics.Recall(5), Precision);
        Assert.Equal(0.75, metrics.Recall(10), Precision);
        Assert.Equal(1.0, metrics.MeanReciprocalRank, Precision);
        // DCG = 1 + 1/log2(4) + 1/log2(6); ideal (4 relevant) = 1 + 1/log2(3) + 1/log2(4) + 1/log2(5).
        var dcg = 1 + 0.5 + (1 / Math.Log2(6));
        var ideal = 1 + (1 / Math.Log2(3)) + 0.5 + (1 / Math.Log2(5));
        Assert.Equal(dcg / ideal, metrics.Ndcg, Precision);
        Assert.Equal(0.7366, Math.Round(metrics.Ndcg, 4));
    }

    [Fact]
    public void Chunks_of_one_document_count_once_at_their_best_rank()
    {
        // Five chunks, three documents: x, a, b. Without de-duplication a would sit at rank 3.
        var metrics = new RetrievalMetrics();
        metrics.Add(["x", "x", "a", "x", "b"], Relevant("a", "b"));

        Assert.Equal(0.5, metrics.MeanReciprocalRank, Precision);
        Assert.Equal(1.0, metrics.Recall(3), Precision);
        Assert.Equal(0.0, metrics.Recall(1), Precision);
    }

    [Fact]
    public void Ties_keep_the_server_order()
    {
        // Equal scores are not re-sorted: the document the server put first stays first.
        Assert.Equal(["b", "a", "c"], RetrievalMetrics.DistinctDocuments(["b", "a", "b", "c", "a"]));

        var first = new RetrievalMetrics();
        first.Add(["b", "a"], Relevant("a"));
        Assert.Equal(0.5, first.MeanReciprocalRank, Precision);
        Assert.Equal(0.0, first.Recall(1), Precision);
    }

    [Fact]
    public void Relevant_document_below_the_cut_off_does_not_count()
    {
        var ranked = Enumerable.Range(1, 10).Select(i => "x" + i).Append("a").ToList();
        var metrics = new RetrievalMetrics();
        metrics.Add(ranked, Relevant("a"));

        Assert.Equal(0.0, metrics.Recall(10), Precision);
        Assert.Equal(0.0, metrics.MeanReciprocalRank, Precision);
        Assert.Equal(0.0, metrics.Ndcg, Precision);
        Assert.Equal(1.0, RetrievalMetrics.RecallAt(ranked, Relevant("a"), 11), Precision);
    }

    [Fact]
    public void Depth_sets_the_cut_offs()
    {
        var metrics = new RetrievalMetrics(depth: 3);
        Assert.Equal([1, 3], metrics.RecallCutoffs);
        metrics.Add(["x", "y", "z", "a"], Relevant("a"));
        Assert.Equal(0.0, metrics.MeanReciprocalRank, Precision);
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Recall(10));
    }

    [Fact]
    public void A_query_without_relevant_documents_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetrievalMetrics().Add(["a"], Relevant()));
    }

    [Fact]
    public void No_queries_means_zero_not_NaN()
    {
        var metrics = new RetrievalMetrics();
        Assert.Equal(0.0, metrics.Recall(1));
        Assert.Equal(0.0, metrics.MeanReciprocalRank);
        Assert.Equal(0.0, metrics.Ndcg);
    }
}
