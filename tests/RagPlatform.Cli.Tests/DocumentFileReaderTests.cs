using RagPlatform.Cli.Ingest;

namespace RagPlatform.Cli.Tests;

public sealed class DocumentFileReaderTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Folder_files_are_posted_for_parsing_with_ids_relative_to_the_folder()
    {
        _directory.Write("docs/guide.md", "## 건강검진 안내\n\n검진 전날에는 금식합니다.\n");
        _directory.Write("docs/report.pdf", "%PDF-1.7 (the server sniffs and parses it)");
        _directory.Write("docs/sub/deeper/notes.txt", "부산은 항구 도시다.");
        _directory.Write("docs/sub/공문.hwp", "binary");
        _directory.Write("docs/.git/config.md", "# hidden");
        _directory.Write("docs/image.png", "not a document");
        _directory.Write("docs/empty.md", "  \n\n");

        var items = DocumentFileReader.Read([Path.Combine(_directory.Path, "docs")]).ToList();

        var files = items.Where(i => i.Kind == SourceItemKind.File).ToList();
        // A folder's files come before its subfolders, each in ordinal order; the server parses them.
        Assert.Equal(["guide.md", "report.pdf", "sub/공문.hwp", "sub/deeper/notes.txt"], files.Select(f => f.Origin));
        Assert.All(files, f => Assert.True(File.Exists(f.Path)));

        var skipped = Assert.Single(items, i => i.Kind == SourceItemKind.Skipped);
        Assert.Equal("empty.md", skipped.Origin);
    }

    [Fact]
    public void A_file_given_directly_is_identified_by_its_name()
    {
        var file = _directory.Write("a/b/readme.md", "# Read me\ntext");
        var item = Assert.Single(DocumentFileReader.Read([file]));
        Assert.Equal((SourceItemKind.File, "readme.md"), (item.Kind, item.Origin));
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
        var csv = _directory.Write("x.csv", "a,b");
        Assert.Throws<UsageException>(() => DocumentFileReader.CheckPaths([csv]));
        DocumentFileReader.CheckPaths([_directory.Write("x.pdf", "%PDF"), _directory.Write("x.hwpx", "PK")]);
        DocumentFileReader.CheckPaths([_directory.Path, _directory.Write("ok.jsonl", "")]);
    }
}
