using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RagPlatform.Lexical;
using RagPlatform.Core.Text;
using RagPlatform.Core.Validation;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Core.Tests;

public sealed class StructuredChunkerTests
{
    /// <summary>One token per character: budgets are easy to reason about.</summary>
    private static readonly KoreanChunker Chunker = new(maxTokens: 60, overlapTokens: 0, text => text.Length);

    [Fact]
    public void A_chunk_never_crosses_into_the_next_section()
    {
        var document = Document(
            new DocumentSection(["1. 개요"], [new ParagraphBlock("짧은 첫 절이다.", 1)]),
            new DocumentSection(["1. 개요", "1.1 범위"], [new ParagraphBlock("둘째 절도 짧다.", 2)]));

        var chunks = StructuredChunker.Chunk(document, Chunker);

        Assert.Equal(["짧은 첫 절이다.", "둘째 절도 짧다."], chunks.Select(c => c.Text));
        Assert.Equal(new ChunkLocation("1. 개요", 1, 1), chunks[0].Location);
        Assert.Equal(new ChunkLocation("1. 개요 > 1.1 범위", 2, 2), chunks[1].Location);
    }

    [Fact]
    public void Paragraph_chunks_span_the_pages_of_the_paragraphs_they_hold()
    {
        var paragraphs = Enumerable.Range(1, 6).Select(i => new ParagraphBlock($"{i}쪽의 문단은 스무 글자 정도이다.", i)).ToList();

        var chunks = StructuredChunker.Chunk(Document(new DocumentSection(["본문"], paragraphs)), new KoreanChunker(45, 0, text => text.Length));

        Assert.Equal(3, chunks.Count);
        Assert.Equal((1, 2), (chunks[0].Location.PageStart, chunks[0].Location.PageEnd));
        Assert.Equal(6, chunks[^1].Location.PageEnd);
        Assert.All(chunks, c => Assert.True(c.Location.PageStart <= c.Location.PageEnd));
    }

    [Fact]
    public void A_table_is_chunked_by_whole_rows_with_its_header_in_every_chunk()
    {
        var rows = new List<TableRow> { new(["항목", "수치"], 3) };
        rows.AddRange(Enumerable.Range(1, 12).Select(i => new TableRow([$"항목{i:00}", $"{i * 10}"], i <= 6 ? 3 : 4)));
        var document = Document(new DocumentSection(["표 2"], [new ParagraphBlock("표 앞 설명.", 3), new TableBlock(rows, 1, "표 2. 수치")]));

        var chunks = StructuredChunker.Chunk(document, Chunker);

        Assert.Equal("표 앞 설명.", chunks[0].Text);
        var tableChunks = chunks.Skip(1).ToList();
        Assert.True(tableChunks.Count >= 2);
        Assert.All(tableChunks, c => Assert.StartsWith("표 2. 수치\n항목 | 수치\n", c.Text, StringComparison.Ordinal));
        Assert.All(tableChunks, c => Assert.True(c.Text.Length <= 60 || c.Text.Split('\n').Length == 3, c.Text));
        // Every row once, whole, in order.
        var bodyRows = tableChunks.SelectMany(c => c.Text.Split('\n').Skip(2)).ToList();
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"항목{i:00} | {i * 10}"), bodyRows);
        Assert.Equal((3, 3), (tableChunks[0].Location.PageStart, tableChunks[0].Location.PageEnd));
        Assert.Equal(4, tableChunks[^1].Location.PageEnd);
    }

    [Fact]
    public void A_row_longer_than_a_chunk_is_split_under_its_header()
    {
        var row = new TableRow(["긴 셀", string.Join(" ", Enumerable.Repeat("아주 긴 설명 문장이다.", 12))]);
        var document = Document(new DocumentSection([], [new TableBlock([new TableRow(["이름", "설명"]), row], 1)]));

        var chunks = StructuredChunker.Chunk(document, Chunker);

        Assert.True(chunks.Count >= 3);
        Assert.All(chunks, c => Assert.StartsWith("이름 | 설명\n", c.Text, StringComparison.Ordinal));
        Assert.Null(chunks[0].Location.Section);
    }

    [Fact]
    public void Long_heading_paths_keep_their_innermost_headings()
    {
        var headings = Enumerable.Range(1, 9).Select(i => new string((char)('가' + i), 200)).ToList();

        var path = StructuredChunker.SectionPath(headings)!;

        Assert.True(path.Length <= StructuredChunker.MaxSectionChars);
        Assert.StartsWith("…", path, StringComparison.Ordinal);
        Assert.EndsWith(headings[^1], path, StringComparison.Ordinal);
    }

    [Fact]
    public void A_location_travels_in_reserved_metadata_and_is_lifted_out_again()
    {
        var given = new Dictionary<string, JsonElement> { ["year"] = JsonSerializer.SerializeToElement(2024) };
        var location = new ChunkLocation("2. 결과 > 2.1 표", 12, 13);

        var metadata = location.AddTo(given);

        Assert.Equal(location, ChunkLocation.Of(metadata));
        Assert.Equal(["year"], ChunkLocation.Strip(metadata).Keys);
        Assert.Same(given, ChunkLocation.None.AddTo(given));
        Assert.Equal(ChunkLocation.None, ChunkLocation.Of(given));
    }

    [Fact]
    public void Documents_may_not_set_reserved_keys_but_filters_may_test_them()
    {
        var metadata = new Dictionary<string, JsonElement> { ["rag:pageStart"] = JsonSerializer.SerializeToElement(3) };
        var errors = new Dictionary<string, string[]>();

        PayloadValidation.ValidateMetadata(metadata, "$[0].metadata", errors);
        var filter = PayloadValidation.ValidateMetadata(metadata, "filter", new Dictionary<string, string[]>(), allowReserved: true);

        Assert.Contains("$[0].metadata.rag:pageStart", errors.Keys);
        Assert.Equal(3, filter["rag:pageStart"].GetInt32());
    }

    [Fact]
    public async Task A_chunk_is_found_by_the_headings_above_it()
    {
        var directory = Path.Combine(Path.GetTempPath(), "rag-lexical-" + Guid.NewGuid().ToString("N"));
        using var index = new EmbeddedLexicalIndex(directory, new LexicalOptions(), NullLogger<EmbeddedLexicalIndex>.Instance);
        try
        {
            var located = new ChunkLocation("3. 민원 처리 현황 > 3.1 세부 내용", 5, 5).AddTo(PointPayload.NoMetadata);
            await index.UpsertAsync("docs", [
                new LexicalChunk("a", new PointPayload("report", null, "항목 | 수치", [], located, "h1", 0)),
                new LexicalChunk("b", new PointPayload("other", null, "관련 없는 본문", [], PointPayload.NoMetadata, "h2", 0)),
            ], default);

            var hits = await index.SearchAsync("docs", "민원 처리", 5, null, default);

            Assert.Equal("a", Assert.Single(hits).Id);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ParsedDocument Document(params DocumentSection[] sections) => new("제목", sections, DocumentProperties.None, null);
}
