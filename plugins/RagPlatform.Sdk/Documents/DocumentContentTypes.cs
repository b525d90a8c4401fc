namespace RagPlatform.Sdk.Documents;

/// <summary>The content types <see cref="ContentSniffer"/> tells apart, as parser plugins declare them.</summary>
public static class DocumentContentTypes
{
    public const string Pdf = "application/pdf";
    public const string Docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    public const string Pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
    public const string Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    public const string Html = "text/html";
    public const string Markdown = "text/markdown";
    public const string PlainText = "text/plain";

    /// <summary>HWPX (OWPML): a ZIP package whose first entry, <c>mimetype</c>, says this.</summary>
    public const string Hwpx = "application/hwp+zip";

    /// <summary>HWP 5.x: an OLE compound file whose <c>FileHeader</c> stream starts "HWP Document File".</summary>
    public const string Hwp = "application/x-hwp";

    /// <summary>A ZIP archive that is none of the packages above.</summary>
    public const string Zip = "application/zip";

    /// <summary>An OLE compound file that is not HWP: legacy binary .doc, .xls, .ppt, .msg.</summary>
    public const string CompoundFile = "application/x-cfb";

    public const string Unknown = "application/octet-stream";

    /// <summary>A short name for messages ("a Word document (DOCX)").</summary>
    public static string Describe(string contentType) => contentType switch
    {
        Pdf => "a PDF",
        Docx => "a Word document (DOCX)",
        Pptx => "a PowerPoint presentation (PPTX)",
        Xlsx => "an Excel workbook (XLSX)",
        Html => "HTML",
        Markdown => "Markdown",
        PlainText => "plain text",
        Hwpx => "a Hancom HWPX document",
        Hwp => "a Hancom HWP 5 document",
        Zip => "a ZIP archive",
        CompoundFile => "a legacy binary Office file (OLE compound file: .doc, .xls, .ppt)",
        _ => contentType,
    };
}
