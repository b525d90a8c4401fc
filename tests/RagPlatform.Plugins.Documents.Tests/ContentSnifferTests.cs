using RagPlatform.DocumentSamples;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Tests;

public sealed class ContentSnifferTests
{
    private static readonly SampleDocument Report = SampleDocument.Report(sections: 2);

    [Fact]
    public void The_content_decides_not_the_name()
    {
        Assert.Equal(DocumentContentTypes.Pdf, ContentSniffer.Sniff("upload", PdfSample.Write(Report)));
        Assert.Equal(DocumentContentTypes.Docx, ContentSniffer.Sniff("upload.bin", OfficeSamples.Docx(Report)));
        Assert.Equal(DocumentContentTypes.Pptx, ContentSniffer.Sniff("upload", OfficeSamples.Pptx(Report)));
        Assert.Equal(DocumentContentTypes.Xlsx, ContentSniffer.Sniff("upload", OfficeSamples.Xlsx(Report)));
        Assert.Equal(DocumentContentTypes.Hwpx, ContentSniffer.Sniff("upload", HancomSamples.Hwpx(Report)));
        Assert.Equal(DocumentContentTypes.Hwp, ContentSniffer.Sniff("upload", HancomSamples.Hwp(Report)));
        Assert.Equal(DocumentContentTypes.Html, ContentSniffer.Sniff("upload", WebSamples.Html(Report)));
    }

    [Fact]
    public void Text_formats_are_chosen_by_name()
    {
        var markdown = WebSamples.Markdown(Report);
        Assert.Equal(DocumentContentTypes.Markdown, ContentSniffer.Sniff("a.md", markdown));
        Assert.Equal(DocumentContentTypes.PlainText, ContentSniffer.Sniff("a.txt", markdown));
        Assert.Equal(DocumentContentTypes.PlainText, ContentSniffer.Sniff("README", markdown));
    }

    [Fact]
    public void Other_compound_files_and_binaries_are_not_documents()
    {
        var legacy = CompoundFileWriter.Write([("WordDocument", new byte[600])]);
        Assert.Equal(DocumentContentTypes.CompoundFile, ContentSniffer.Sniff("old.doc", legacy));
        Assert.Equal(DocumentContentTypes.Unknown, ContentSniffer.Sniff("photo", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 }));
    }
}
