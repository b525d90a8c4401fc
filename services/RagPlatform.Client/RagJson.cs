using System.Text.Encodings.Web;
using System.Text.Json;

namespace RagPlatform.Client;

/// <summary>The JSON settings of the wire format.</summary>
public static class RagJson
{
    /// <summary>
    /// The server's web defaults (camelCase, case-insensitive reads). Non-ASCII text is written as UTF-8 rather than
    /// \uXXXX escapes: Korean text would otherwise take twice the bytes of the request budget.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
