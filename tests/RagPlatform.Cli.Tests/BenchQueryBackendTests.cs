using System.Numerics.Tensors;
using System.Text.Json;
using RagPlatform.Cli.Bench;
using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli.Tests;

/// <summary>
/// <c>rag bench query --backend embedded|faiss</c> on small vector sets: the real plugins (FAISS through the shim
/// scripts/setup/10-faiss.sh builds) against Debian's python3-faiss (installed by the same setup script), both engines'
/// figures and their ratios in one JSON object. No timing is asserted, only that the figures are there and consistent.
/// </summary>
[Collection(nameof(ConsoleCapture))]
public sealed class BenchQueryBackendTests
{
    private static readonly string[] Small = ["--vectors", "2000", "--dimensions", "32", "--queries", "50", "--json"];

    [Fact]
    public async Task The_faiss_backend_and_python3_faiss_search_the_same_hnsw_index_and_both_figures_are_reported()
    {
        var result = await ConsoleCapture.RunJsonAsync(BenchCommand.Create([]), ["bench", "query", "--backend", "faiss", .. Small]);

        Assert.Equal("faiss", result.GetProperty("backend").GetString());
        Assert.Equal("lowrank", result.GetProperty("data").GetString());
        Assert.Equal("HNSW32,Flat", result.GetProperty("index").GetString());
        Assert.Equal(50, result.GetProperty("queries").GetInt32());
        var ours = result.GetProperty("ours");
        var anchor = result.GetProperty("anchor");
        Assert.StartsWith("python3-faiss ", anchor.GetProperty("engine").GetString(), StringComparison.Ordinal);
        Assert.Equal(128, anchor.GetProperty("efSearch").GetInt32());
        AssertRatio(ours.GetProperty("qps"), anchor.GetProperty("qps"), result.GetProperty("ratios").GetProperty("singleQps"));
        // One graph searched at one efSearch: the two recalls agree, and on 2,000 low-rank points HNSW finds nearly everything.
        var recall = ours.GetProperty("recallAt10").GetDouble();
        Assert.InRange(recall, 0.95, 1.0);
        Assert.InRange(anchor.GetProperty("recallAt10").GetDouble(), recall - 0.02, recall + 0.02);
        Assert.True(result.GetProperty("goals").GetProperty("recallMet").GetBoolean());
        Assert.Equal(0.9, result.GetProperty("goals").GetProperty("qpsRatio").GetDouble());
    }

    [Fact]
    public async Task The_embedded_backend_finds_the_exact_answers_alone_and_concurrently_and_is_compared_with_index_flat_ip()
    {
        var result = await ConsoleCapture.RunJsonAsync(BenchCommand.Create([]),
            ["bench", "query", "--backend", "embedded", "--clients", "8", "--data", "uniform", .. Small]);

        Assert.Equal("embedded", result.GetProperty("backend").GetString());
        Assert.Equal("uniform", result.GetProperty("data").GetString());
        Assert.Equal(8, result.GetProperty("clients").GetInt32());
        var ours = result.GetProperty("ours");
        var anchor = result.GetProperty("anchor");
        Assert.Equal(1.0, ours.GetProperty("recallAt10").GetDouble());
        Assert.Equal(1.0, ours.GetProperty("concurrentRecallAt10").GetDouble());
        Assert.True(ours.GetProperty("concurrentAnswersIdentical").GetBoolean());
        // IndexFlatIP is exact too: our scan and FAISS's agree on every top 10.
        Assert.Equal(1.0, anchor.GetProperty("recallAt10").GetDouble());
        Assert.Equal(1.0, anchor.GetProperty("batchRecallAt10").GetDouble());
        Assert.Equal(8, anchor.GetProperty("batch").GetInt32());
        var ratios = result.GetProperty("ratios");
        AssertRatio(ours.GetProperty("qps"), anchor.GetProperty("qps"), ratios.GetProperty("singleQps"));
        AssertRatio(ours.GetProperty("concurrentQps"), anchor.GetProperty("batchQps"), ratios.GetProperty("concurrentQpsOverBatchQps"));
    }

    [Fact]
    public async Task A_missing_faiss_shim_is_an_error_that_says_how_to_build_it()
    {
        using var directory = new TempDirectory();
        var missing = Path.Combine(directory.Path, "libragfaiss.so");

        var (exit, output, error) = await ConsoleCapture.RunAsync(
            BenchCommand.Create([$"--RagPlatform:VectorStore:Backends:faiss:NativeLibraryPath={missing}"]),
            ["bench", "query", "--backend", "faiss", .. Small]);

        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("libragfaiss.so", error, StringComparison.Ordinal);
        Assert.Contains("scripts/test.sh", error, StringComparison.Ordinal);
        Assert.Contains("NativeLibraryPath", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Must be one of", "--backend", "milvus")]
    [InlineData("--vectors applies only with --backend", "--vectors", "1000")]
    [InlineData("--index applies only to --backend faiss", "--backend", "embedded", "--index", "Flat")]
    [InlineData("--ef-search applies only to --backend faiss", "--backend", "embedded", "--ef-search", "64")]
    [InlineData("--clients applies only to --backend embedded", "--backend", "faiss", "--clients", "8")]
    [InlineData("--chunks applies to the query-path benchmark", "--backend", "faiss", "--chunks", "100")]
    [InlineData("--zipf applies to the query-path benchmark", "--backend", "embedded", "--zipf", "1.0")]
    [InlineData("--vectors must be at least 10", "--backend", "faiss", "--vectors", "5")]
    [InlineData("--dimensions must be at least 1", "--backend", "embedded", "--dimensions", "0")]
    [InlineData("--ef-search must be at least 1", "--backend", "faiss", "--ef-search", "0")]
    [InlineData("--index must be a FAISS index factory string", "--backend", "faiss", "--index", " ")]
    [InlineData("gaussian", "--backend", "faiss", "--data", "gaussian")]
    [InlineData("--vectors × --dimensions must be at most", "--backend", "embedded", "--vectors", "100000000", "--dimensions", "384")]
    public async Task Bad_backend_benchmark_options_are_usage_errors_naming_the_option(string message, params string[] options)
    {
        var (exit, output, error) = await ConsoleCapture.RunAsync(BenchCommand.Create([]), ["bench", "query", .. options]);

        Assert.NotEqual(0, exit);
        Assert.Contains(message, output + error, StringComparison.Ordinal);
    }

    [Fact]
    public void Generated_vectors_are_unit_length_deterministic_for_a_seed_and_the_truth_is_the_exact_top_ten()
    {
        var set = BenchVectorSet.Generate(500, 24, 7, BenchVectorData.LowRank, seed: 5);
        set.ComputeExactTruth();

        var again = BenchVectorSet.Generate(500, 24, 7, BenchVectorData.LowRank, seed: 5);
        Assert.Equal(set.Points, again.Points);
        Assert.Equal(set.Queries, again.Queries);
        Assert.NotEqual(set.Points, BenchVectorSet.Generate(500, 24, 7, BenchVectorData.LowRank, seed: 6).Points);
        Assert.NotEqual(set.Points, BenchVectorSet.Generate(500, 24, 7, BenchVectorData.Uniform, seed: 5).Points);
        for (var row = 0; row < set.Count; row++)
        {
            Assert.InRange(TensorPrimitives.Norm(set.Point(row)), 0.999f, 1.001f);
        }

        for (var q = 0; q < set.QueryCount; q++)
        {
            var query = set.Query(q).ToArray();
            var expected = Enumerable.Range(0, set.Count)
                .OrderByDescending(row => TensorPrimitives.Dot(query, set.Point(row)))
                .Take(BenchVectorSet.K)
                .Select(row => (long)row);
            Assert.Equal(expected, set.Truth.AsSpan(q * BenchVectorSet.K, BenchVectorSet.K).ToArray());
        }
    }

    private static void AssertRatio(JsonElement numerator, JsonElement denominator, JsonElement ratio)
    {
        Assert.True(numerator.GetDouble() > 0 && denominator.GetDouble() > 0);
        // The figures are rounded to 0.1 QPS in the report, the ratio to 0.001 from the unrounded ones.
        Assert.Equal(numerator.GetDouble() / denominator.GetDouble(), ratio.GetDouble(), 0.01 * Math.Max(1, ratio.GetDouble()));
    }
}
