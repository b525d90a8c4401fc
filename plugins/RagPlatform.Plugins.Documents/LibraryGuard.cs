using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents;

/// <summary>
/// Libraries meeting hostile bytes throw whatever their internals throw (a missing dictionary key, an index out of
/// range): around a library-backed parser, anything but a deliberate refusal or a cancellation is the file's damage.
/// Our own parsers (HWP, HWPX) are not wrapped, so their tests see their bugs.
/// </summary>
internal static class LibraryGuard
{
    public static Task<ParsedDocument> Run(string format, Func<ParsedDocument> parse)
    {
        try
        {
            return Task.FromResult(parse());
        }
        catch (Exception ex) when (ex is not DocumentParseException and not OperationCanceledException and not OutOfMemoryException)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt, $"The {format} cannot be read: {ex.Message}", ex);
        }
    }
}
