using System.Text;
using RagPlatform.Sdk.Documents;

namespace RagPlatform.Plugins.Documents;

/// <summary>
/// Bytes to text for the text formats: a byte-order mark decides; otherwise strict UTF-8, and when that fails the
/// Korean legacy code page (CP949, a superset of EUC-KR), which many Korean text files still use.
/// </summary>
internal static class TextDecoding
{
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    static TextDecoding()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
    }

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return Strict(StrictUtf8, bytes[3..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return Strict(new UnicodeEncoding(false, false, true), bytes[2..]);
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return Strict(new UnicodeEncoding(true, false, true), bytes[2..]);
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            var korean = Encoding.GetEncoding(949, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
            return Strict(korean, bytes, "neither UTF-8 nor CP949 (EUC-KR)");
        }
    }

    private static string Strict(Encoding encoding, ReadOnlySpan<byte> bytes, string? what = null)
    {
        try
        {
            return encoding.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new DocumentParseException(DocumentParseFailure.Corrupt,
                $"The text is not valid {what ?? encoding.WebName} (byte {ex.Index}); save it as UTF-8.", ex);
        }
    }
}
