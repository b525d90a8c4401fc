using System.Text.Json;
using Google.Protobuf.Collections;
using Qdrant.Client.Grpc;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>
/// How a point lives in Qdrant: a UUID id; the named dense vector and, when the text has terms, the named sparse
/// BM25 vector; the payload <c>{point_id, document_id, title, text, tags, metadata, metadata_terms, content_hash,
/// ordinal, metadata_json}</c>. <c>tags</c>, <c>document_id</c> and <c>metadata_terms</c> carry keyword payload indexes; filters
/// only ever test those.
/// </summary>
internal static class QdrantPoints
{
    public const string PointIdField = "point_id";
    public const string DocumentIdField = "document_id";
    public const string TagsField = "tags";
    public const string MetadataTermsField = "metadata_terms";
    public const string MetadataJsonField = "metadata_json";

    /// <summary>The payload fields that get a keyword index, so filtered searches and deletes by document stay indexed.</summary>
    public static readonly string[] IndexedFields = [TagsField, DocumentIdField, MetadataTermsField];

    public static void WritePayload(MapField<string, Value> payload, string pointId, PointPayload point)
    {
        payload[PointIdField] = pointId;
        payload[DocumentIdField] = point.DocumentId;
        payload["title"] = point.Title is null ? new Value { NullValue = NullValue.NullValue } : point.Title;
        payload["text"] = point.Text;
        var tags = new ListValue();
        tags.Values.AddRange(point.Tags.Select(t => (Value)t));
        payload[TagsField] = new Value { ListValue = tags };
        var metadata = new Struct();
        foreach (var (key, value) in point.Metadata)
        {
            metadata.Fields[key] = FromJson(value);
        }

        payload["metadata"] = new Value { StructValue = metadata };

        // Qdrant's values are 64-bit integers or doubles; the exact JSON travels beside them, so a number such as
        // 12345678901234567890 or 12.50 comes back as it went in.
        payload[MetadataJsonField] = JsonSerializer.Serialize(point.Metadata);
        var terms = new ListValue();
        terms.Values.AddRange(MetadataTerms.Of(point.Metadata).Select(t => (Value)t));
        payload[MetadataTermsField] = new Value { ListValue = terms };
        payload["content_hash"] = point.ContentHash;
        payload["ordinal"] = point.Ordinal;
    }

    public static (string Id, PointPayload Payload) ReadPayload(PointId id, MapField<string, Value> payload)
    {
        var pointId = payload.TryGetValue(PointIdField, out var original) && original.HasStringValue ? original.StringValue : id.Uuid;
        var tags = payload.TryGetValue(TagsField, out var tagList) && tagList.ListValue is { } list
            ? list.Values.Select(v => v.StringValue).ToList()
            : [];
        var metadata = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (payload.TryGetValue(MetadataJsonField, out var exact) && exact.HasStringValue)
        {
            using var json = JsonDocument.Parse(exact.StringValue);
            foreach (var property in json.RootElement.EnumerateObject())
            {
                metadata[property.Name] = property.Value.Clone();
            }
        }
        else if (payload.TryGetValue("metadata", out var metadataValue) && metadataValue.StructValue is { } fields)
        {
            foreach (var (key, value) in fields.Fields)
            {
                metadata[key] = ToJson(value);
            }
        }

        return (pointId, new PointPayload(
            payload.TryGetValue(DocumentIdField, out var document) ? document.StringValue : string.Empty,
            payload.TryGetValue("title", out var title) && title.HasStringValue ? title.StringValue : null,
            payload.TryGetValue("text", out var text) ? text.StringValue : string.Empty,
            tags,
            metadata,
            payload.TryGetValue("content_hash", out var hash) ? hash.StringValue : string.Empty,
            payload.TryGetValue("ordinal", out var ordinal) ? (int)ordinal.IntegerValue : 0));
    }

    /// <summary>The Qdrant filter for <see cref="VectorFilter"/>: every tag and every metadata term must match.</summary>
    public static Filter? FilterOf(VectorFilter? filter)
    {
        if (filter is null || filter.IsEmpty)
        {
            return null;
        }

        var result = new Filter();
        foreach (var tag in filter.Tags)
        {
            result.Must.Add(Keyword(TagsField, tag));
        }

        foreach (var (key, value) in filter.Metadata)
        {
            result.Must.Add(Keyword(MetadataTermsField, MetadataTerms.Term(key, value)));
        }

        return result;
    }

    public static Filter DocumentFilter(string documentId) => new() { Must = { Keyword(DocumentIdField, documentId) } };

    private static Condition Keyword(string key, string value) =>
        new() { Field = new FieldCondition { Key = key, Match = new Match { Keyword = value } } };

    /// <summary>Metadata values are JSON scalars: whole numbers become Qdrant integers, others doubles.</summary>
    private static Value FromJson(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when value.TryGetInt64(out var whole) => whole,
        JsonValueKind.Number => value.GetDouble(),
        _ => new Value { NullValue = NullValue.NullValue },
    };

    private static JsonElement ToJson(Value value) => value.KindCase switch
    {
        Value.KindOneofCase.StringValue => JsonSerializer.SerializeToElement(value.StringValue),
        Value.KindOneofCase.BoolValue => JsonSerializer.SerializeToElement(value.BoolValue),
        Value.KindOneofCase.IntegerValue => JsonSerializer.SerializeToElement(value.IntegerValue),
        Value.KindOneofCase.DoubleValue => JsonSerializer.SerializeToElement(value.DoubleValue),
        _ => JsonSerializer.SerializeToElement<object?>(null),
    };
}
