using System.Text.Json;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Pinecone;

/// <summary>
/// How a point lives in Pinecone: record id = point id; <c>values</c> = the vector; flat <c>metadata</c> (Pinecone
/// takes strings, numbers, booleans and lists of strings only) = document_id, title (absent when null), text, tags,
/// content_hash, ordinal, metadata_json (the point's metadata verbatim, for exact round trips) and metadata_terms
/// (one keyword per metadata entry, for <c>$in</c> filters).
/// </summary>
internal static class PineconeRecords
{
    public const string DocumentIdField = "document_id";
    public const string TagsField = "tags";
    public const string MetadataTermsField = "metadata_terms";

    public static byte[] SerializeRecord(VectorPoint point, int maxMetadataBytes)
    {
        var metadata = SerializeMetadata(point.Payload);
        if (metadata.Length > maxMetadataBytes)
        {
            throw new ArgumentException(
                $"Point '{point.Id}' needs {metadata.Length} bytes of Pinecone metadata (its text is {point.Payload.Text.Length} characters); the limit is {maxMetadataBytes}. Use smaller chunks for this backend.",
                nameof(point));
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", point.Id);
            writer.WriteStartArray("values");
            foreach (var value in point.Vector)
            {
                writer.WriteNumberValue(value);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("metadata");
            writer.WriteRawValue(metadata, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static byte[] SerializeMetadata(PointPayload payload)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(DocumentIdField, payload.DocumentId);
            if (payload.Title is not null)
            {
                writer.WriteString("title", payload.Title);
            }

            writer.WriteString("text", payload.Text);
            writer.WriteStartArray(TagsField);
            foreach (var tag in payload.Tags)
            {
                writer.WriteStringValue(tag);
            }

            writer.WriteEndArray();
            writer.WriteString("content_hash", payload.ContentHash);
            writer.WriteNumber("ordinal", payload.Ordinal);
            if (payload.Metadata.Count > 0)
            {
                writer.WriteString("metadata_json", JsonSerializer.Serialize(payload.Metadata));
                writer.WriteStartArray(MetadataTermsField);
                foreach (var term in MetadataTerms.Of(payload.Metadata))
                {
                    writer.WriteStringValue(term);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static PointPayload ReadPayload(JsonElement metadata)
    {
        var tags = new List<string>();
        if (metadata.TryGetProperty(TagsField, out var tagArray) && tagArray.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in tagArray.EnumerateArray())
            {
                tags.Add(tag.GetString()!);
            }
        }

        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (metadata.TryGetProperty("metadata_json", out var json) && json.GetString() is { Length: > 0 } text)
        {
            using var document = JsonDocument.Parse(text);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                values[property.Name] = property.Value.Clone();
            }
        }

        return new PointPayload(
            metadata.GetProperty(DocumentIdField).GetString()!,
            metadata.TryGetProperty("title", out var title) ? title.GetString() : null,
            metadata.TryGetProperty("text", out var body) ? body.GetString() ?? string.Empty : string.Empty,
            tags,
            values,
            metadata.TryGetProperty("content_hash", out var hash) ? hash.GetString() ?? string.Empty : string.Empty,
            metadata.TryGetProperty("ordinal", out var ordinal) ? (int)ordinal.GetDouble() : 0);
    }

    /// <summary>The Pinecone metadata filter for <see cref="VectorFilter"/>: <c>{"$and": [{"tags": {"$in": [tag]}}, {"metadata_terms": {"$in": [term]}}, …]}</c>.</summary>
    public static void WriteFilter(Utf8JsonWriter writer, VectorFilter filter)
    {
        writer.WriteStartObject("filter");
        writer.WriteStartArray("$and");
        foreach (var tag in filter.Tags)
        {
            WriteIn(writer, TagsField, tag);
        }

        foreach (var (key, value) in filter.Metadata)
        {
            WriteIn(writer, MetadataTermsField, MetadataTerms.Term(key, value));
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteIn(Utf8JsonWriter writer, string field, string value)
    {
        writer.WriteStartObject();
        writer.WriteStartObject(field);
        writer.WriteStartArray("$in");
        writer.WriteStringValue(value);
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
