using System.Text;
using System.Text.Json;

namespace RagPlatform.Cli.Search;

/// <summary>
/// <c>--filter key=value</c> to a metadata filter. Values that are JSON numbers or true/false match numeric and
/// boolean metadata; anything else, including "007" and "True", is a string.
/// </summary>
public static class FilterParser
{
    public static Dictionary<string, JsonElement> Parse(IEnumerable<string> filters)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var filter in filters)
        {
            var equals = filter.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--filter '{filter}': expected key=value.");
            }

            var key = filter[..equals];
            if (!result.TryAdd(key, ParseValue(filter[(equals + 1)..])))
            {
                throw new UsageException($"--filter: '{key}' is given twice; a filter holds one value per key.");
            }
        }

        return result;
    }

    public static JsonElement ParseValue(string value) =>
        value is "true" or "false" || IsJsonNumber(value)
            ? JsonDocument.Parse(value).RootElement.Clone()
            : JsonSerializer.SerializeToElement(value);

    private static bool IsJsonNumber(string value)
    {
        if (value.Length == 0 || value.Trim().Length != value.Length)
        {
            return false;
        }

        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(value));
        try
        {
            // One number token and nothing after it: "1e3" and "-0.5" are numbers; "1 2", "0x10" and "007" are not.
            return reader.Read() && reader.TokenType == JsonTokenType.Number && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
