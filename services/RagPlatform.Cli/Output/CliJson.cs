using System.Text.Json;
using RagPlatform.Client;

namespace RagPlatform.Cli.Output;

/// <summary>JSON settings for <c>--json</c> output: the wire format's (<see cref="RagJson"/>), so Korean text stays readable.</summary>
public static class CliJson
{
    public static readonly JsonSerializerOptions Options = RagJson.Options;

    /// <summary>One JSON document on one line of stdout.</summary>
    public static void WriteLine<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
}
