using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;

namespace RagPlatform.DocumentSamples;

/// <summary>
/// Writes a <see cref="SampleDocument"/> as a PDF with PDFsharp 6.2.4 and Debian's NanumGothic (fonts-nanum, installed
/// by scripts/setup/50-fonts.sh): A4 pages, headings larger and bold, paragraphs wrapped to the text width, tables as
/// rows of cells in fixed columns (a table continued on a new page keeps its columns), a running head and a page
/// number on every page, as real reports have. Text is embedded as Unicode.
/// </summary>
public static class PdfSample
{
    private const double Margin = 56;
    private const double BodySize = 10;

    /// <summary>The running head printed at the top of every page.</summary>
    public const string RunningHead = "2024년 공공기관 운영 보고서 · 대외 공개용";
    private static readonly object Gate = new();

    public static byte[] Write(SampleDocument document, string? userPassword = null)
    {
        EnsureFonts();
        using var pdf = new PdfDocument();
        pdf.Info.Title = document.Title;
        pdf.Info.Author = document.Author;
        var body = new XFont(NanumFontResolver.Family, BodySize, XFontStyleEx.Regular);
        var h1 = new XFont(NanumFontResolver.Family, 16, XFontStyleEx.Bold);
        var h2 = new XFont(NanumFontResolver.Family, 13, XFontStyleEx.Bold);
        var cell = new XFont(NanumFontResolver.Family, 9, XFontStyleEx.Regular);
        var furniture = new XFont(NanumFontResolver.Family, 8, XFontStyleEx.Regular);

        PdfPage page = null!;
        XGraphics gfx = null!;
        double y = 0;
        double width = 0;
        void NewPage()
        {
            gfx?.Dispose();
            page = pdf.AddPage();
            page.Size = PdfSharp.PageSize.A4;
            gfx = XGraphics.FromPdfPage(page);
            y = Margin;
            width = page.Width.Point - (2 * Margin);
            gfx.DrawString(RunningHead, furniture, XBrushes.Gray, new XRect(Margin, Margin / 2, width, 10), XStringFormats.TopLeft);
            gfx.DrawString(pdf.PageCount.ToString(System.Globalization.CultureInfo.InvariantCulture), furniture, XBrushes.Gray,
                new XRect(Margin, page.Height.Point - (Margin / 2), width, 10), XStringFormats.TopCenter);
        }

        void Line(string text, XFont font, double x = Margin)
        {
            var height = font.GetHeight();
            if (y + height > page.Height.Point - Margin)
            {
                NewPage();
            }

            gfx.DrawString(text, font, XBrushes.Black, new XRect(x, y, width, height), XStringFormats.TopLeft);
            y += height * 1.25;
        }

        NewPage();
        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case SampleHeading heading:
                    y += 8;
                    Line(heading.Text, heading.Level == 1 ? h1 : h2);
                    y += 2;
                    break;
                case SampleParagraph paragraph:
                    foreach (var line in Wrap(gfx, paragraph.Text, body, width))
                    {
                        Line(line, body);
                    }

                    y += 6;
                    break;
                case SampleTable table:
                    var columns = table.Rows.Max(r => r.Count);
                    var columnWidth = width / columns;
                    foreach (var row in table.Rows)
                    {
                        var height = cell.GetHeight();
                        if (y + height > page.Height.Point - Margin)
                        {
                            NewPage();
                        }

                        for (var c = 0; c < row.Count; c++)
                        {
                            gfx.DrawString(row[c], cell, XBrushes.Black, new XRect(Margin + (c * columnWidth), y, columnWidth - 4, height), XStringFormats.TopLeft);
                        }

                        y += height * 1.5;
                    }

                    y += 8;
                    break;
            }
        }

        gfx.Dispose();
        if (userPassword is not null)
        {
            pdf.SecuritySettings.UserPassword = userPassword;
            pdf.SecuritySettings.OwnerPassword = userPassword + "-owner";
        }

        using var output = new MemoryStream();
        pdf.Save(output);
        return output.ToArray();
    }

    private static IEnumerable<string> Wrap(XGraphics gfx, string text, XFont font, double width)
    {
        var line = string.Empty;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = line.Length == 0 ? word : line + " " + word;
            if (line.Length > 0 && gfx.MeasureString(candidate, font).Width > width)
            {
                yield return line;
                line = word;
            }
            else
            {
                line = candidate;
            }
        }

        if (line.Length > 0)
        {
            yield return line;
        }
    }

    /// <summary>Installs the Nanum font resolver once per process (PDFsharp's font settings are global).</summary>
    public static void EnsureFonts()
    {
        lock (Gate)
        {
            if (GlobalFontSettings.FontResolver is not NanumFontResolver)
            {
                GlobalFontSettings.FontResolver = new NanumFontResolver();
            }
        }
    }
}

/// <summary>Serves NanumGothic (regular and bold) from Debian's fonts-nanum to PDFsharp.</summary>
public sealed class NanumFontResolver : IFontResolver
{
    public const string Family = "NanumGothic";
    private const string Directory = "/usr/share/fonts/truetype/nanum";

    public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic) =>
        new(bold ? "NanumGothicBold" : "NanumGothic");

    public byte[]? GetFont(string faceName)
    {
        var path = Path.Combine(Directory, faceName + ".ttf");
        return File.Exists(path)
            ? File.ReadAllBytes(path)
            : throw new FileNotFoundException(
                $"{path} is missing: generated Korean PDFs need Debian's fonts-nanum (apt-get install fonts-nanum; scripts/setup/50-fonts.sh).", path);
    }
}
