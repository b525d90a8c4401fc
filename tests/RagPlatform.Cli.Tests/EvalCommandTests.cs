using System.Text.Json;
using RagPlatform.Cli.Commands;

namespace RagPlatform.Cli.Tests;

/// <summary><c>rag eval</c> end to end on a tiny BEIR set, in-process: the last line is the JSON summary.</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class EvalCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public EvalCommandTests()
    {
        _directory.Write("beir/corpus.jsonl", string.Join('\n',
            """{"_id": "loan", "title": "대출 금리", "text": "은행의 주택담보대출 금리가 0.25%포인트 올랐다."}""",
            """{"_id": "football", "title": "축구", "text": "어제 열린 축구 경기에서 홈팀이 이겼다."}""",
            """{"_id": "checkup", "title": "건강검진", "text": "건강검진 전날에는 저녁 아홉 시 이후 금식해야 해요."}"""));
        _directory.Write("beir/queries.jsonl", string.Join('\n',
            """{"_id": "q1", "text": "주택담보대출 금리 인상"}""",
            """{"_id": "q2", "text": "축구 경기 결과"}""",
            """{"_id": "q3", "text": "검진 전날 금식"}"""));
        _directory.Write("beir/qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\tloan\t1\nq2\tfootball\t1\nq3\tcheckup\t1\n");
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Every_mode_is_measured_by_default_with_hybrid_at_the_top_level()
    {
        var summary = await EvalAsync();

        Assert.Equal("hybrid", summary.GetProperty("mode").GetString());
        Assert.Equal(3, summary.GetProperty("queries").GetInt32());
        var modes = summary.GetProperty("modes");
        Assert.Equal(["dense", "lexical", "hybrid"], modes.EnumerateObject().Select(p => p.Name));
        foreach (var mode in modes.EnumerateObject())
        {
            Assert.Equal(["recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10"], mode.Value.EnumerateObject().Select(p => p.Name));
        }

        Assert.Equal(modes.GetProperty("hybrid").GetProperty("recall@1").GetDouble(), summary.GetProperty("recall@1").GetDouble());
        Assert.Equal(1.0, modes.GetProperty("lexical").GetProperty("recall@1").GetDouble());
    }

    [Fact]
    public async Task One_named_mode_keeps_the_single_mode_keys()
    {
        var summary = await EvalAsync("--mode", "lexical");

        Assert.Equal(
            ["recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10", "mode", "queries", "collection"],
            summary.EnumerateObject().Select(p => p.Name));
        Assert.Equal("lexical", summary.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task Folds_report_each_folds_choice_and_the_pooled_held_out_metrics()
    {
        var summary = await EvalAsync("--folds", "3", "--fusion", "zscore");

        var crossValidated = summary.GetProperty("crossValidated");
        Assert.Equal(3, crossValidated.GetProperty("folds").GetInt32());
        Assert.Equal("zscore", crossValidated.GetProperty("fusion").GetString());
        var folds = crossValidated.GetProperty("perFold").EnumerateArray().ToList();
        Assert.Equal(3, folds.Count);
        Assert.Equal(3, folds.Sum(f => f.GetProperty("queries").GetInt32()));
        Assert.All(folds, f => Assert.StartsWith("zscore", f.GetProperty("chosen").GetString()));
        Assert.InRange(crossValidated.GetProperty("recall@1").GetDouble(), 0, 1);
    }

    [Fact]
    public async Task Folds_need_every_mode()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => EvalAsync("--folds", "3", "--mode", "hybrid"));
    }

    [Fact]
    public async Task Bm25_settings_are_each_measured_and_chosen_between_by_the_folds()
    {
        var summary = await EvalAsync("--folds", "3", "--fusion", "zscore", "--bm25", "1.2:0.75", "0.9:0.4:1000");

        var settings = summary.GetProperty("bm25").EnumerateArray().ToList();
        Assert.Equal([(1.2, 0.75), (0.9, 0.4)], settings.Select(s => (s.GetProperty("k1").GetDouble(), s.GetProperty("b").GetDouble())));
        Assert.Equal([false, true], settings.Select(s => s.TryGetProperty("k3", out _)));
        Assert.All(settings, s => Assert.InRange(s.GetProperty("lexical").GetProperty("recall@1").GetDouble(), 0, 1));
        var folds = summary.GetProperty("crossValidated").GetProperty("perFold").EnumerateArray().ToList();
        Assert.Equal(3, folds.Sum(f => f.GetProperty("queries").GetInt32()));
        Assert.All(folds, f => Assert.Matches("^bm25 k1=(1.2 b=0.75|0.9 b=0.4 k3=1000), zscore ", f.GetProperty("chosen").GetString()!));
    }

    [Theory]
    [InlineData("--bm25", "1.2:0.75")]
    [InlineData("--folds", "3", "--bm25", "1.2")]
    [InlineData("--folds", "3", "--bm25", "1.2:1.5")]
    [InlineData("--folds", "3", "--bm25", "1.2:0.75", "--server", "http://127.0.0.1:9")]
    public async Task Bm25_settings_need_folds_valid_values_and_no_named_server(params string[] arguments)
    {
        await Assert.ThrowsAnyAsync<Exception>(() => EvalAsync(arguments));
    }

    private Task<JsonElement> EvalAsync(params string[] extra) => ConsoleCapture.RunJsonAsync(EvalCommand.Create([]),
        ["eval", "--beir", Path.Combine(_directory.Path, "beir"), "--data-dir", Path.Combine(_directory.Path, "data"), "--json", .. extra]);
}
