using System.Globalization;
using System.Text;

namespace RagPlatform.DocumentSamples;

/// <summary>A block of a sample: a heading (level 1–3), a paragraph, or a table (first row = header).</summary>
public abstract record SampleBlock;

public sealed record SampleHeading(int Level, string Text) : SampleBlock;

public sealed record SampleParagraph(string Text) : SampleBlock;

public sealed record SampleTable(IReadOnlyList<IReadOnlyList<string>> Rows) : SampleBlock;

/// <summary>
/// What a generated document says, independent of its format: a title, an author and blocks in reading order. Every
/// writer renders the same content, so a test can check a parser against what was written.
/// </summary>
public sealed record SampleDocument(string Title, string Author, IReadOnlyList<SampleBlock> Blocks)
{
    public IEnumerable<SampleTable> Tables => Blocks.OfType<SampleTable>();

    /// <summary>
    /// A Korean report of <paramref name="sections"/> numbered sections, each with a sub-section of paragraphs and, every
    /// <paramref name="tableEvery"/> sections, a table of <paramref name="tableRows"/> rows (header: 항목 | 기준 | 수치 | 비고)
    /// whose cells are unique per table and row (<see cref="CellCode"/>), so a test can search for one cell.
    /// </summary>
    public static SampleDocument Report(int sections, int paragraphsPerSection = 4, int tableEvery = 2, int tableRows = 8, int seed = 19)
    {
        var random = new Random(seed);
        var blocks = new List<SampleBlock>();
        for (var s = 1; s <= sections; s++)
        {
            var topic = Topics[(s - 1) % Topics.Length];
            blocks.Add(new SampleHeading(1, string.Create(CultureInfo.InvariantCulture, $"{s}. {topic} 현황")));
            blocks.Add(new SampleParagraph(KoreanText.Paragraph(random, topic, 3)));
            blocks.Add(new SampleHeading(2, string.Create(CultureInfo.InvariantCulture, $"{s}.1 {topic} 세부 내용")));
            for (var p = 1; p < paragraphsPerSection; p++)
            {
                blocks.Add(new SampleParagraph(KoreanText.Paragraph(random, topic, 4)));
            }

            if (tableEvery > 0 && s % tableEvery == 0)
            {
                var rows = new List<IReadOnlyList<string>> { (IReadOnlyList<string>)["항목", "기준", "수치", "비고"] };
                for (var r = 1; r <= tableRows; r++)
                {
                    rows.Add([
                        string.Create(CultureInfo.InvariantCulture, $"{topic} 항목{r}"),
                        Criteria[random.Next(Criteria.Length)],
                        string.Create(CultureInfo.InvariantCulture, $"{random.Next(10, 999)}.{random.Next(0, 9)}"),
                        CellCode(s, r),
                    ]);
                }

                blocks.Add(new SampleTable(rows));
            }
        }

        return new SampleDocument("2024년 공공기관 운영 보고서", "홍길동", blocks);
    }

    /// <summary>The unique note cell of row <paramref name="row"/> in the table of section <paramref name="section"/>: "검증코드 가나-03-05".</summary>
    public static string CellCode(int section, int row) =>
        string.Create(CultureInfo.InvariantCulture, $"검증코드 {Syllables[section % Syllables.Length]}{Syllables[(section * 7 + row) % Syllables.Length]}-{section:00}-{row:00}");

    private static readonly string[] Topics = ["예산 집행", "인력 운영", "시설 관리", "민원 처리", "정보 보안", "교육 훈련", "안전 점검", "환경 관리", "계약 관리", "홍보 활동"];

    private static readonly string[] Criteria = ["월간", "분기", "반기", "연간", "수시"];

    private static readonly string[] Syllables = ["가", "나", "다", "라", "마", "바", "사", "아", "자", "차", "카", "타", "파", "하"];

    /// <summary>All text, one line per paragraph, heading and table row (cells joined by " | ").</summary>
    public string PlainText()
    {
        var text = new StringBuilder();
        foreach (var block in Blocks)
        {
            switch (block)
            {
                case SampleHeading heading:
                    text.AppendLine(heading.Text);
                    break;
                case SampleParagraph paragraph:
                    text.AppendLine(paragraph.Text);
                    break;
                case SampleTable table:
                    foreach (var row in table.Rows)
                    {
                        text.AppendLine(string.Join(" | ", row));
                    }

                    break;
            }
        }

        return text.ToString();
    }
}

/// <summary>Deterministic Korean sentences in the register of public reports.</summary>
public static class KoreanText
{
    private static readonly string[] Subjects = ["기관은", "담당 부서는", "위원회는", "각 지역 사무소는", "사업단은", "운영팀은"];
    private static readonly string[] Objects = ["관련 규정을", "세부 계획을", "추진 실적을", "개선 방안을", "점검 결과를", "예산 현황을", "운영 지침을"];
    private static readonly string[] Verbs = ["검토하였다", "수립하였다", "보고하였다", "공개하였다", "점검하였다", "마련하였다", "확정하였다"];
    private static readonly string[] Adverbs = ["올해 상반기에", "지난 분기 동안", "연말까지", "매월", "정기적으로", "관계 기관과 함께"];

    public static string Sentence(Random random, string topic) =>
        $"{Adverbs[random.Next(Adverbs.Length)]} {Subjects[random.Next(Subjects.Length)]} {topic} 분야의 {Objects[random.Next(Objects.Length)]} {Verbs[random.Next(Verbs.Length)]}.";

    public static string Paragraph(Random random, string topic, int sentences) =>
        string.Join(" ", Enumerable.Range(0, sentences).Select(_ => Sentence(random, topic)));
}
