using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Tests;

public sealed class DocumentBuilderTests
{
    [Fact]
    public void A_heading_closes_headings_of_its_level_and_deeper()
    {
        var builder = new DocumentBuilder(DocumentParseLimits.Default);
        builder.Paragraph("서문");
        builder.Heading(1, "1. 개요");
        builder.Heading(2, "1.1 범위");
        builder.Paragraph("범위 설명");
        builder.Heading(2, "1.2 용어");
        builder.Paragraph("용어 설명");
        builder.Heading(1, "2. 본문");
        builder.Paragraph("본문 설명");

        var document = builder.Build();

        Assert.Equal([[], ["1. 개요", "1.1 범위"], ["1. 개요", "1.2 용어"], ["2. 본문"]], document.Sections.Select(s => s.HeadingPath));
        Assert.Equal("1. 개요", document.Title);
    }

    [Fact]
    public void A_heading_followed_by_nothing_keeps_its_text()
    {
        var builder = new DocumentBuilder(DocumentParseLimits.Default);
        builder.Heading(1, "1");
        builder.Heading(1, "2");
        builder.Paragraph("둘째 아래 본문");

        var document = builder.Build();

        Assert.Equal(["1", "2", "둘째 아래 본문"], document.Texts().Distinct());
    }

    [Fact]
    public void Blank_rows_go_and_a_one_row_table_is_a_paragraph()
    {
        var builder = new DocumentBuilder(DocumentParseLimits.Default);
        builder.Table([new TableRow(["", " "]), new TableRow(["상자 안의 글"])]);
        builder.Table([new TableRow(["이름", "값", ""]), new TableRow(["", ""]), new TableRow(["가", "1"])]);

        var blocks = builder.Build().Sections.Single().Blocks;

        Assert.Equal("상자 안의 글", Assert.IsType<ParagraphBlock>(blocks[0]).Text);
        var table = Assert.IsType<TableBlock>(blocks[1]);
        Assert.Equal([["이름", "값"], ["가", "1"]], table.Rows.Select(r => r.Cells));
        Assert.Equal(1, table.HeaderRows);
    }

    [Fact]
    public void Text_over_the_limit_stops_the_parse_as_too_large()
    {
        var builder = new DocumentBuilder(new DocumentParseLimits { MaxTextChars = 10 });
        builder.Paragraph("여덟 글자 문단");

        Assert.Equal(DocumentParseFailure.TooLarge, Assert.Throws<DocumentParseException>(() => builder.Paragraph("다섯 글자")).Failure);
    }
}
