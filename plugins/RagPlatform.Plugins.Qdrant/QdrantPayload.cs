using System.Text.Json;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>
/// How a point lives in Qdrant: <c>{"id": uuid, "vector": [...], "payload": {point_id, document_id, title, text,
/// tags, metadata, metadata_terms, content_hash, ordinal}}</c>. <c>tags</c>, <c>document_id</c> and
/// <c>metadata_terms</c> carry keyword payload indexes; filters only ever test those.
/// </summary>
internal static class QdrantPayload
{
    public const string PointIdField = "point_id";
    public const string DocumentIdField = "document_id";
    public const string TagsField = "tags";
    public const string MetadataTermsField = "metadata_terms";

    /// <summary>The payload fields that get a keyword index, so filtered searches and deletes by document stay indexed.</summary>
    public static readonly string[] IndexedFields = [TagsField, DocumentIdField, MetadataTermsField];

    public static byte[] SerializePoint(VectorPoint point)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", QdrantPointIds.For(point.Id));
            writer.WriteStartArray("vector");
            foreach (var value in point.Vector)
            {
                writer.WriteNumberValue(value);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("payload");
            WritePayload(writer, point.Id, point.Payload);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WritePayload(Utf8JsonWriter writer, string pointId, PointPayload payload)
    {
        writer.WriteStartObject();
        writer.WriteString(PointIdField, pointId);
        writer.WriteString(DocumentIdField, payload.DocumentId);
        if (payload.Title is null)
        {
            writer.WriteNull("title");
        }
        else
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
        writer.WriteStartObject("metadata");
        foreach (var (key, value) in payload.Metadata)
        {
            writer.WritePropertyName(key);
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
        writer.WriteStartArray(MetadataTermsField);
        foreach (var term in MetadataTerms.Of(payload.Metadata))
        {
            writer.WriteStringValue(term);
        }

        writer.WriteEndArray();
        writer.WriteString("content_hash", payload.ContentHash);
        writer.WriteNumber("ordinal", payload.Ordinal);
        writer.WriteEndObject();
    }

    /// <summary>Reads a Qdrant record or scored point (<c>id</c>, <c>payload</c>, optional <c>vector</c>).</summary>
    public static (string Id, PointPayload Payload) ReadPayload(JsonElement record)
    {
        var payload = record.GetProperty("payload");
        var id = payload.TryGetProperty(PointIdField, out var original) ? original.GetString()! : record.GetProperty("id").ToString();
        var tags = new List<string>();
        if (payload.TryGetProperty(TagsField, out var tagArray) && tagArray.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in tagArray.EnumerateArray())
            {
                tags.Add(tag.GetString()!);
            }
        }

        var metadata = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (payload.TryGetProperty("metadata", out var metadataObject) && metadataObject.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in metadataObject.EnumerateObject())
            {
                metadata[property.Name] = property.Value.Clone();
            }
        }

        var title = payload.TryGetProperty("title", out var titleElement) && titleElement.ValueKind == JsonValueKind.String ? titleElement.GetString() : null;
        return (id, new PointPayload(
            payload.GetProperty(DocumentIdField).GetString()!,
            title,
            payload.TryGetProperty("text", out var text) ? text.GetString() ?? string.Empty : string.Empty,
            tags,
            metadata,
            payload.TryGetProperty("content_hash", out var hash) ? hash.GetString() ?? string.Empty : string.Empty,
            payload.TryGetProperty("ordinal", out var ordinal) ? ordinal.GetInt32() : 0));
    }

    /// <summary>The Qdrant filter for <see cref="VectorFilter"/>: every tag and every metadata term must match.</summary>
    public static void WriteFilter(Utf8JsonWriter writer, VectorFilter filter)
    {
        writer.WriteStartObject("filter");
        writer.WriteStartArray("must");
        foreach (var tag in filter.Tags)
        {
            WriteMatch(writer, TagsField, tag);
        }

        foreach (var (key, value) in filter.Metadata)
        {
            WriteMatch(writer, MetadataTermsField, MetadataTerms.Term(key, value));
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static void WriteDocumentFilter(Utf8JsonWriter writer, string documentId)
    {
        writer.WriteStartObject("filter");
        writer.WriteStartArray("must");
        WriteMatch(writer, DocumentIdField, documentId);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteMatch(Utf8JsonWriter writer, string key, string value)
    {
        writer.WriteStartObject();
        writer.WriteString("key", key);
        writer.WriteStartObject("match");
        writer.WriteString("value", value);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
