using System.Globalization;
using System.Text;
using System.Text.Json;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.PgVector;

/// <summary>
/// pgvector's text form of a vector (<c>[1,-2.5,3e-45]</c>) and the jsonb forms of tags and metadata.
/// Text is exact both ways: .NET writes the shortest string that parses back to the same float32, and
/// pgvector prints vectors with the shortest round-trip form too, so bits survive the trip.
/// </summary>
internal static class PgVectorText
{
    public static string FormatVector(ReadOnlySpan<float> vector)
    {
        var builder = new StringBuilder((vector.Length * 11) + 2);
        builder.Append('[');
        for (var i = 0; i < vector.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append(vector[i].ToString("R", CultureInfo.InvariantCulture));
        }

        return builder.Append(']').ToString();
    }

    public static float[] ParseVector(string text, int dimensions)
    {
        var span = text.AsSpan().Trim();
        if (span.Length < 2 || span[0] != '[' || span[^1] != ']')
        {
            throw new FormatException("pgvector returned a vector that is not in [x,y,…] form.");
        }

        span = span[1..^1];
        var vector = new float[dimensions];
        var index = 0;
        foreach (var range in span.Split(','))
        {
            if (index == dimensions)
            {
                throw new FormatException($"pgvector returned more than {dimensions} values for one vector.");
            }

            vector[index++] = float.Parse(span[range], NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        if (index != dimensions)
        {
            throw new FormatException($"pgvector returned {index} values for a vector of {dimensions} dimensions.");
        }

        return vector;
    }

    public static string FormatTags(IReadOnlyList<string> tags) => JsonSerializer.Serialize(tags);

    public static IReadOnlyList<string> ParseTags(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];

    public static string FormatMetadata(IReadOnlyDictionary<string, JsonElement> metadata)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in metadata)
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    public static IReadOnlyDictionary<string, JsonElement> ParseMetadata(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            return PointPayload.NoMetadata;
        }

        var metadata = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            metadata[property.Name] = property.Value.Clone();
        }

        return metadata.Count == 0 ? PointPayload.NoMetadata : metadata;
    }
}
