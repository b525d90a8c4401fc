using System.IO.Packaging;
using DocumentFormat.OpenXml.Packaging;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents.Office;

/// <summary>Opening Office packages safely: archive checks first, then the SDK with a per-part character limit.</summary>
internal static class OpenXmlPackages
{
    public static OpenSettings Settings(DocumentParseLimits limits) => new()
    {
        // The Open XML SDK's own guard against a part that inflates without end (its documented zip-bomb defence).
        MaxCharactersInPart = Math.Max(1, limits.MaxDecompressedBytes),
    };

    public static T Open<T>(DocumentSource source, DocumentParseLimits limits, Func<Stream, OpenSettings, T> open)
        where T : OpenXmlPackage
    {
        using (ArchiveGuard.Open(source, limits))
        {
            // Checked: entry count and declared sizes.
        }

        try
        {
            return open(source.OpenRead(), Settings(limits));
        }
        catch (Exception ex) when (ex is OpenXmlPackageException or FileFormatException or InvalidDataException or InvalidOperationException or System.Xml.XmlException)
        {
            if (ex.Message.Contains("encrypt", StringComparison.OrdinalIgnoreCase))
            {
                throw new DocumentParseException(DocumentParseFailure.Protected, "The document is encrypted; save an unprotected copy to index it.", ex);
            }

            throw new DocumentParseException(DocumentParseFailure.Corrupt, "The Office document cannot be read: " + ex.Message, ex);
        }
    }

    public static DocumentProperties Properties(OpenXmlPackage package)
    {
        var core = package.PackageProperties;
        return new DocumentProperties(
            Author: Blank(core.Creator) ?? Blank(core.LastModifiedBy),
            Created: core.Created is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : null,
            Modified: core.Modified is { } modified ? new DateTimeOffset(DateTime.SpecifyKind(modified, DateTimeKind.Utc)) : null,
            Subject: Blank(core.Subject),
            Keywords: Blank(core.Keywords));
    }

    public static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Reads the part's XML; the SDK's character limit applies, and its failure becomes a per-file reason.</summary>
    public static T Load<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Xml.XmlException or OpenXmlPackageException or InvalidOperationException or IOException)
        {
            if (ex.Message.Contains("MaxCharactersInPart", StringComparison.Ordinal) || ex.InnerException?.Message.Contains("MaxCharactersInPart", StringComparison.Ordinal) == true)
            {
                throw new DocumentParseException(DocumentParseFailure.TooLarge, "A part of the package inflates beyond the size limit (a ZIP bomb, or split the document).", ex);
            }

            throw new DocumentParseException(DocumentParseFailure.Corrupt, "A part of the Office document cannot be read: " + ex.Message, ex);
        }
    }
}
