using System.Net;
using System.Text;

namespace RagPlatform.DocumentSamples;

/// <summary>Writes <see cref="SampleDocument"/>s as HTML (with navigation, scripts and a footer around the article) and Markdown.</summary>
public static class WebSamples
{
    public static byte[] Html(SampleDocument document)
    {
        var html = new StringBuilder();
        html.Append($"<!DOCTYPE html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(document.Title)}</title>");
        html.Append($"<meta name=\"author\" content=\"{WebUtility.HtmlEncode(document.Author)}\"><style>body {{ font-family: sans-serif; }}</style>");
        html.Append("<script>window.tracking = '추적 스크립트';</script></head><body>");
        html.Append("<nav><a href=\"/\">홈</a> <a href=\"/menu\">메뉴 바로가기</a></nav><main><article>");
        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case SampleHeading heading:
                    html.Append($"<h{heading.Level}>{WebUtility.HtmlEncode(heading.Text)}</h{heading.Level}>");
                    break;
                case SampleParagraph paragraph:
                    html.Append($"<p>{WebUtility.HtmlEncode(paragraph.Text)}</p>");
                    break;
                case SampleTable table:
                    html.Append("<table><thead><tr>");
                    html.Append(string.Concat(table.Rows[0].Select(c => $"<th>{WebUtility.HtmlEncode(c)}</th>")));
                    html.Append("</tr></thead><tbody>");
                    foreach (var row in table.Rows.Skip(1))
                    {
                        html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{WebUtility.HtmlEncode(c)}</td>"))).Append("</tr>");
                    }

                    html.Append("</tbody></table>");
                    break;
            }
        }

        html.Append("</article></main><footer>저작권 안내 및 사이트맵</footer></body></html>");
        return Encoding.UTF8.GetBytes(html.ToString());
    }

    public static byte[] Markdown(SampleDocument document)
    {
        var markdown = new StringBuilder();
        markdown.Append("# ").Append(document.Title).Append("\n\n");
        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case SampleHeading heading:
                    markdown.Append(new string('#', heading.Level + 1)).Append(' ').Append(heading.Text).Append("\n\n");
                    break;
                case SampleParagraph paragraph:
                    markdown.Append(paragraph.Text).Append("\n\n");
                    break;
                case SampleTable table:
                    markdown.Append("| ").Append(string.Join(" | ", table.Rows[0])).Append(" |\n");
                    markdown.Append('|').Append(string.Concat(table.Rows[0].Select(_ => " --- |"))).Append('\n');
                    foreach (var row in table.Rows.Skip(1))
                    {
                        markdown.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
                    }

                    markdown.Append('\n');
                    break;
            }
        }

        return Encoding.UTF8.GetBytes(markdown.ToString());
    }
}
