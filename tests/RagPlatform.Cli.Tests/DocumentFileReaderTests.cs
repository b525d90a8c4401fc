using RagPlatform.Cli.Ingest;

namespace RagPlatform.Cli.Tests;

public sealed class DocumentFileReaderTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Folder_documents_have_ids_relative_to_the_folder_with_slashes()
    {
        _directory.Write("docs/guide.md", "```bash\n# not a heading\n```\n\n## 건강검진 안내\n\n검진 전날에는 금식합니다.\n");
        _directory.Write("docs/sub/deeper/notes.txt", "# 텍스트 파일의 첫 줄\n부산은 항구 도시다.");
        _directory.Write("docs/sub/plain.md", "제목 없는 마크다운.");
        _directory.Write("docs/.git/config.md", "# hidden");
        _directory.Write("docs/image.png", "not text");
        _directory.Write("docs/empty.md", "  \n\n");

        var items = DocumentFileReader.Read([Path.Combine(_directory.Path, "docs")]).ToList();

        var documents = items.Where(i => i.Kind == SourceItemKind.Document).Select(i => i.Document!).ToList();
        // A folder's files come before its subfolders, each in ordinal order.
        Assert.Equal(["guide.md", "sub/plain.md", "sub/deeper/notes.txt"], documents.Select(d => d.Id));
        // Markdown: the first heading outside code; text files and heading-less Markdown: the file name.
        Assert.Equal(["건강검진 안내", "plain", "notes"], documents.Select(d => d.Title));
        Assert.Equal("검진 전날에는 금식합니다.", documents[0].Text!.Split('\n')[^2]);
        Assert.Equal("# 텍스트 파일의 첫 줄\n부산은 항구 도시다.", documents[2].Text);

        var skipped = Assert.Single(items, i => i.Kind == SourceItemKind.Skipped);
        Assert.Equal("empty.md", skipped.Origin);
    }

    [Fact]
    public void A_file_given_directly_is_identified_by_its_name()
    {
        var file = _directory.Write("a/b/readme.md", "# Read me\ntext");
        var item = Assert.Single(DocumentFileReader.Read([file]));
        Assert.Equal("readme.md", item.Document!.Id);
        Assert.Equal("Read me", item.Document.Title);
    }

    [Fact]
    public void Jsonl_lines_are_documents_with_their_own_ids()
    {
        _directory.Write("data/set.jsonl", """
            {"id": "d1", "title": "제주", "text": "제주도는 섬이다.", "tags": ["island", "south"], "metadata": {"pop": 670000, "region": "south", "capital": false}}

            {"_id": "beir-7", "title": "", "text": "BEIR 형식의 줄."}
            {"_id": 42, "text": "숫자 id"}
            not json
            {"id": "no-text"}
            [1, 2]
            """);

        var items = DocumentFileReader.Read([Path.Combine(_directory.Path, "data")]).ToList();

        Assert.Equal(6, items.Count);
        var first = items[0].Document!;
        Assert.Equal(("d1", "제주", "제주도는 섬이다."), (first.Id, first.Title, first.Text));
        Assert.Equal(["island", "south"], first.Tags!);
        Assert.Equal(670000, first.Metadata!["pop"].GetInt32());
        Assert.Equal("south", first.Metadata["region"].GetString());
        Assert.False(first.Metadata["capital"].GetBoolean());
        Assert.Equal("set.jsonl:1", items[0].Origin);

        Assert.Equal("beir-7", items[1].Document!.Id);
        Assert.Equal("set.jsonl:3", items[1].Origin);
        Assert.Equal("42", items[2].Document!.Id);

        Assert.All(items.Skip(3), i => Assert.Equal(SourceItemKind.Invalid, i.Kind));
        Assert.Equal(["set.jsonl:5", "set.jsonl:6", "set.jsonl:7"], items.Skip(3).Select(i => i.Origin));
        Assert.StartsWith("invalid JSON", items[3].Problem, StringComparison.Ordinal);
        Assert.Contains("\"text\"", items[4].Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("# Title", "Title")]
    [InlineData("intro\n\n### Deep title ###\n# later", "Deep title")]
    [InlineData("#hashtag, not a heading\n# Real", "Real")]
    [InlineData("    # indented code\n", null)]
    [InlineData("~~~\n# in a fence\n~~~\n", null)]
    [InlineData("####### seven is too many", null)]
    [InlineData("no heading at all", null)]
    public void Markdown_heading(string text, string? expected) =>
        Assert.Equal(expected, DocumentFileReader.FindMarkdownHeading(text));

    [Fact]
    public void Relative_ids_use_forward_slashes()
    {
        var root = Path.Combine(_directory.Path, "root");
        Assert.Equal("a/b/c.md", DocumentFileReader.RelativeId(root, Path.Combine(root, "a", "b", "c.md")));
    }

    [Fact]
    public void Missing_paths_and_unsupported_files_are_usage_errors()
    {
        Assert.Throws<UsageException>(() => DocumentFileReader.CheckPaths([Path.Combine(_directory.Path, "nope")]));
        var pdf = _directory.Write("x.pdf", "%PDF");
        Assert.Throws<UsageException>(() => DocumentFileReader.CheckPaths([pdf]));
        DocumentFileReader.CheckPaths([_directory.Path, _directory.Write("ok.jsonl", "")]);
    }
}
