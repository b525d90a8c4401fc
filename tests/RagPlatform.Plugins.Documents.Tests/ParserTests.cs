using System.Text;
using RagPlatform.DocumentSamples;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Tests;

/// <summary>Every built-in parser on a Korean report written in its format: text, headings, tables, pages, properties.</summary>
public sealed class ParserTests
{
    private static readonly SampleDocument Report = SampleDocument.Report(sections: 6, tableRows: 5);

    public static TheoryData<string> Formats => ["report.pdf", "report.docx", "report.hwpx", "report.hwp", "report.html", "report.md", "report.pptx"];

    private static byte[] Write(string name) => Path.GetExtension(name) switch
    {
        ".pdf" => PdfSample.Write(Report),
        ".docx" => OfficeSamples.Docx(Report),
        ".pptx" => OfficeSamples.Pptx(Report),
        ".xlsx" => OfficeSamples.Xlsx(Report),
        ".hwpx" => HancomSamples.Hwpx(Report),
        ".hwp" => HancomSamples.Hwp(Report),
        ".html" => WebSamples.Html(Report),
        ".md" => WebSamples.Markdown(Report),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Every_paragraph_and_cell_written_is_read_back(string name)
    {
        var document = await Parse.FileAsync(name, Write(name));
        var text = Parse.AllText(document).Replace(" ", string.Empty, StringComparison.Ordinal);

        foreach (var block in Report.Blocks)
        {
            var expected = block switch
            {
                SampleHeading heading => [heading.Text],
                SampleParagraph paragraph => [paragraph.Text],
                SampleTable table => table.Rows.SelectMany(r => r).ToArray(),
                _ => Array.Empty<string>(),
            };
            foreach (var piece in expected)
            {
                Assert.Contains(piece.Replace(" ", string.Empty, StringComparison.Ordinal), text, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Tables_keep_their_rows_with_the_header_first(string name)
    {
        var document = await Parse.FileAsync(name, Write(name));
        var tables = Parse.Blocks<TableBlock>(document).ToList();

        Assert.Equal(Report.Tables.Count(), tables.Count);
        var written = Report.Tables.First();
        var read = tables[0];
        Assert.Equal(1, read.HeaderRows);
        Assert.Equal(written.Rows.Count, read.Rows.Count);
        Assert.Equal(written.Rows[0], read.Rows[0].Cells);
        Assert.Equal(written.Rows[3], read.Rows[3].Cells);
    }

    [Theory]
    [InlineData("report.pdf")]
    [InlineData("report.docx")]
    [InlineData("report.hwpx")]
    [InlineData("report.hwp")]
    [InlineData("report.html")]
    [InlineData("report.md")]
    public async Task Headings_become_section_paths(string name)
    {
        var document = await Parse.FileAsync(name, Write(name));

        // "2.1 … 세부 내용" sits under "2. … 현황" (the Markdown sample puts the title above both).
        var section = Assert.Single(document.Sections, s => s.HeadingPath.Count > 0 && s.HeadingPath[^1] == "2.1 인력 운영 세부 내용");
        Assert.Equal("2. 인력 운영 현황", section.HeadingPath[^2]);
        Assert.Contains(section.Blocks, b => b is TableBlock);
    }

    [Fact]
    public async Task Pdf_paragraphs_and_rows_carry_their_pages()
    {
        var report = SampleDocument.Report(sections: 20, tableRows: 6);
        var document = await Parse.FileAsync("long.pdf", PdfSample.Write(report));

        Assert.True(document.Pages >= 8, $"{document.Pages} pages");
        var pages = Parse.Blocks<ParagraphBlock>(document).Select(p => p.Page).ToList();
        Assert.All(pages, p => Assert.NotNull(p));
        Assert.Equal(pages.Order().ToList(), pages); // reading order
        Assert.Equal(document.Pages, pages.Max());
        Assert.Equal("2024년 공공기관 운영 보고서", document.Title);
        Assert.Equal("홍길동", document.Properties.Author);
        // Running heads and page numbers are page furniture, not text.
        Assert.DoesNotContain(Parse.AllText(document).Split('\n'), t => t.Contains("대외 공개용", StringComparison.Ordinal) || t.All(char.IsDigit));
    }

    [Fact]
    public async Task Presentation_slides_are_sections_numbered_as_pages()
    {
        var document = await Parse.FileAsync("deck.pptx", OfficeSamples.Pptx(Report));

        Assert.Equal(Report.Blocks.Count(b => b is SampleHeading { Level: 1 }), document.Pages);
        Assert.Equal("1. 예산 집행 현황", document.Sections[0].HeadingPath[0]);
        Assert.All(Parse.Blocks<ParagraphBlock>(document), p => Assert.InRange(p.Page!.Value, 1, document.Pages!.Value));
    }

    [Fact]
    public async Task Workbook_sheets_are_sections_holding_tables()
    {
        var document = await Parse.FileAsync("tables.xlsx", OfficeSamples.Xlsx(Report));

        Assert.Equal(["표1", "표2", "표3"], document.Sections.Select(s => s.HeadingPath[0]));
        var table = Assert.IsType<TableBlock>(Assert.Single(document.Sections[1].Blocks));
        Assert.Equal(["항목", "기준", "수치", "비고"], table.Rows[0].Cells);
        Assert.Equal(SampleDocument.CellCode(4, 2), table.Rows[2].Cells[3]);
    }

    [Fact]
    public async Task Html_keeps_the_article_and_drops_scripts_navigation_and_footer()
    {
        var document = await Parse.FileAsync("page.html", WebSamples.Html(Report));
        var text = Parse.AllText(document);

        Assert.Equal("2024년 공공기관 운영 보고서", document.Title);
        Assert.Equal("홍길동", document.Properties.Author);
        Assert.DoesNotContain("추적 스크립트", text, StringComparison.Ordinal);
        Assert.DoesNotContain("메뉴 바로가기", text, StringComparison.Ordinal);
        Assert.DoesNotContain("저작권 안내", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hancom_documents_carry_title_and_author()
    {
        foreach (var (name, bytes) in new[] { ("a.hwp", HancomSamples.Hwp(Report)), ("a.hwpx", HancomSamples.Hwpx(Report)) })
        {
            var document = await Parse.FileAsync(name, bytes);
            Assert.Equal(("2024년 공공기관 운영 보고서", "홍길동"), (document.Title, document.Properties.Author));
        }
    }

    [Fact]
    public async Task Uncompressed_hwp_streams_are_read_too()
    {
        var document = await Parse.FileAsync("plain.hwp", HancomSamples.Hwp(Report, new HancomSamples.HwpOptions(Compressed: false)));

        Assert.Contains(SampleDocument.CellCode(2, 1), Parse.AllText(document), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Korean_text_in_the_legacy_code_page_is_decoded()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var bytes = Encoding.GetEncoding(949).GetBytes("건강검진 안내\n\n검진 전날에는 금식합니다.");

        var document = await Parse.FileAsync("notes.txt", bytes);

        Assert.Equal(["건강검진 안내", "검진 전날에는 금식합니다."], Parse.Blocks<ParagraphBlock>(document).Select(p => p.Text));
    }

    [Fact]
    public async Task Markdown_title_is_its_first_heading()
    {
        var document = await Parse.FileAsync("guide.md", "```bash\n# not a heading\n```\n\n## 건강검진 안내\n\n검진 전날에는 금식합니다.\n"u8.ToArray());

        Assert.Equal("건강검진 안내", document.Title);
        Assert.Equal("# not a heading", Parse.Blocks<ParagraphBlock>(document).First().Text);
    }
}
