using RagPlatform.Cli.Eval;
using RagPlatform.Cli.Ingest;

namespace RagPlatform.Cli.Tests;

public sealed class BeirDatasetTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string WriteFixture()
    {
        _directory.Write("tiny/corpus.jsonl", """
            {"_id": "law - a.pdf - 1", "title": "", "text": "은행법 제8조에 따라 인가를 받아야 한다."}
            {"_id": "law - a.pdf - 2", "title": "두 번째", "text": "예비인가는 본인가 전에 신청한다."}

            {"_id": "fin - b.pdf - 1", "title": "", "text": "기준금리는 연 3.5%이다."}
            """);
        _directory.Write("tiny/queries.jsonl", """
            {"_id": "q1", "text": "은행 인가 요건은?"}
            {"_id": "q2", "text": "기준금리는 얼마인가?"}
            {"_id": "q3", "text": "판정이 없는 질문"}
            {"_id": "q4", "text": "관련 없음으로만 판정된 질문"}
            """);
        _directory.Write("tiny/qrels/test.tsv",
            "query-id\tcorpus-id\tscore\n" +
            "q1\tlaw - a.pdf - 1\t1\n" +
            "q1\tlaw - a.pdf - 2\t2\n" +
            "q2\tfin - b.pdf - 1\t1\n" +
            "q2\tlaw - a.pdf - 2\t0\n" +
            "q4\tlaw - a.pdf - 1\t0\n" +
            "q9\tfin - b.pdf - 1\t1\n");
        return Path.Combine(_directory.Path, "tiny");
    }

    [Fact]
    public void Loads_only_queries_with_relevant_documents()
    {
        var dataset = BeirDataset.Load(WriteFixture());

        Assert.Equal(["q1", "q2"], dataset.Queries.Select(q => q.Id));
        Assert.Equal("은행 인가 요건은?", dataset.Queries[0].Text);
        // Ids with spaces survive: columns are split on tabs only. Score 0 is judged, not relevant.
        Assert.Equal(["law - a.pdf - 1", "law - a.pdf - 2"], dataset.Queries[0].Relevant.Order(StringComparer.Ordinal));
        Assert.Equal(["fin - b.pdf - 1"], dataset.Queries[1].Relevant);
        // q3 has no qrels and q4 only a non-relevant one; q9 has qrels but no query text.
        Assert.Equal(2, dataset.UnjudgedQueries);
    }

    [Fact]
    public void Reads_the_corpus_as_documents()
    {
        var dataset = BeirDataset.Load(WriteFixture());
        var items = dataset.ReadCorpus().ToList();

        Assert.All(items, i => Assert.Equal(SourceItemKind.Document, i.Kind));
        Assert.Equal(["law - a.pdf - 1", "law - a.pdf - 2", "fin - b.pdf - 1"], items.Select(i => i.Document!.Id));
        Assert.Equal("두 번째", items[1].Document!.Title);
        Assert.Equal("기준금리는 연 3.5%이다.", items[2].Document!.Text);
        Assert.Equal("corpus.jsonl:4", items[2].Origin);
    }

    [Fact]
    public void Header_line_is_skipped_only_when_it_is_one()
    {
        var withHeader = BeirDataset.ReadQrels(new StringReader("query-id\tcorpus-id\tscore\nq1\td1\t1\n"), "qrels");
        Assert.Equal(["q1"], withHeader.Keys);

        var withoutHeader = BeirDataset.ReadQrels(new StringReader("q1\td1\t1\nq2\td2\t1\n"), "qrels");
        Assert.Equal(["q1", "q2"], withoutHeader.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Trec_style_four_column_qrels_are_read()
    {
        var qrels = BeirDataset.ReadQrels(new StringReader("q1\t0\td7\t1\n"), "qrels");
        Assert.Equal(["d7"], qrels["q1"]);
    }

    [Fact]
    public void A_malformed_qrels_line_names_its_position()
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            BeirDataset.ReadQrels(new StringReader("query-id\tcorpus-id\tscore\nq1\td1\tx\n"), "test.tsv"));
        Assert.StartsWith("test.tsv:2:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_the_files_is_a_usage_error()
    {
        var error = Assert.Throws<UsageException>(() => BeirDataset.Load(_directory.Path));
        Assert.Contains("corpus.jsonl", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/data/autorag-ko", "autorag-ko")]
    [InlineData("/data/autorag-ko/", "autorag-ko")]
    [InlineData("/data/AutoRAG Ko.v2", "autorag-ko-v2")]
    [InlineData("/data/_scifact", "scifact")]
    [InlineData("/data/한국어", "beir")]
    public void Collection_name_from_the_folder(string folder, string expected)
    {
        var name = BeirDataset.CollectionNameFor(folder);
        // Non-ASCII names become dashes, then nothing is left once leading dashes are trimmed.
        Assert.Equal(expected, name);
        Assert.Matches("^[a-z0-9][a-z0-9_-]{0,62}$", name);
    }
}
