using System.Globalization;
using System.Text.Json;
using RagPlatform.Contracts.Http;

namespace RagPlatform.Cli.Ingest;

/// <summary>
/// One document per JSON line: <c>{"id", "title", "text", "tags", "metadata"}</c>, or a BEIR corpus line whose
/// id is <c>_id</c>. Only the shape needed to build a document is checked here; the server validates the rest
/// (lengths, tag and metadata rules) and names the document it refuses.
/// </summary>
public static class JsonLinesDocuments
{
    public static IEnumerable<SourceItem> Read(TextReader reader, string origin)
    {
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var where = string.Create(CultureInfo.InvariantCulture, $"{origin}:{number}");
            yield return Parse(line, out var document, out var problem)
                ? SourceItem.Of(document!, where)
                : SourceItem.Invalid(where, problem!);
        }
    }

    public static bool Parse(string line, out DocumentInput? document, out string? problem)
    {
        document = null;
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "a line must be a JSON object";
                return false;
            }

            var id = Scalar(root, "id") ?? Scalar(root, "_id");
            if (string.IsNullOrEmpty(id))
            {
                problem = "\"id\" (or \"_id\") is required";
                return false;
            }

            if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                problem = $"document '{id}': \"text\" must be a string";
                return false;
            }

            document = new DocumentInput(id, Scalar(root, "title"), text.GetString(), Tags(root), Metadata(root));
            problem = null;
            return true;
        }
        catch (JsonException ex)
        {
            // The reader's message ends with offsets within the line, which say nothing more than the line number.
            var message = ex.Message;
            var offsets = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            problem = "invalid JSON: " + (offsets > 0 ? message[..offsets] : message);
            return false;
        }
        catch (InvalidOperationException ex)
        {
            problem = "unexpected JSON shape: " + ex.Message;
            return false;
        }
    }

    /// <summary>Strings as they are; numbers by their JSON text (BEIR ids are sometimes numeric).</summary>
    private static string? Scalar(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) ? null : value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };

    private static List<string?>? Tags(JsonElement root) =>
        root.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? [.. tags.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString() : t.GetRawText())]
            : null;

    private static Dictionary<string, JsonElement>? Metadata(JsonElement root) =>
        root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            ? metadata.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal)
            : null;
}
