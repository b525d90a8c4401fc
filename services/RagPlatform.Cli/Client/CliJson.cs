using System.Text.Encodings.Web;
using System.Text.Json;

namespace RagPlatform.Cli.Client;

/// <summary>JSON settings for request bodies and for <c>--json</c> output.</summary>
public static class CliJson
{
    /// <summary>
    /// The server's web defaults (camelCase, case-insensitive reads). Non-ASCII text is written as UTF-8 rather
    /// than \uXXXX escapes: Korean text would otherwise take twice the bytes of the 32 MB request budget,
    /// and --json output stays readable.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>One JSON document on one line of stdout.</summary>
    public static void WriteLine<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
}
