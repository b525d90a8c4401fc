using System.Buffers;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// A point's payload as the store keeps it: the <see cref="PointPayload"/> handed out to callers (read-only
/// views, metadata detached from the caller's JsonDocument) plus the raw arrays the filter scan reads
/// without going through interfaces.
/// </summary>
internal sealed class StoredPoint(string id, PointPayload payload, string[] tags, MetadataMap? metadata)
{
    public string Id { get; } = id;

    public PointPayload Payload { get; } = payload;

    public string[] Tags { get; } = tags;

    public MetadataMap? Metadata { get; } = metadata;
}

/// <summary>A decoded point whose metadata is still waiting for its frame's shared JSON document.</summary>
internal readonly record struct PendingPoint(
    string Id,
    string DocumentId,
    string? Title,
    string Text,
    string[] Tags,
    string ContentHash,
    int Ordinal,
    int MetadataIndex);

/// <summary>
/// Gathers the metadata objects of one frame into a JSON array that is parsed once, so the points of a
/// frame share one detached document instead of each owning one (fewer objects for every GC to promote).
/// </summary>
internal sealed class FrameMetadata
{
    private readonly ArrayBufferWriter<byte> _json = new(4096);
    private int _count;

    public void Reset()
    {
        _json.ResetWrittenCount();
        _count = 0;
    }

    /// <summary>Adds one JSON object and returns its index in the frame.</summary>
    public int Add(ReadOnlySpan<byte> objectJson)
    {
        _json.Write(_count == 0 ? "["u8 : ","u8);
        _json.Write(objectJson);
        return _count++;
    }

    public MetadataMap[] Parse()
    {
        if (_count == 0)
        {
            return [];
        }

        _json.Write("]"u8);
        JsonElement root;
        try
        {
            root = JsonElement.Parse(_json.WrittenSpan);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("Stored point metadata is not valid JSON.", e);
        }

        var maps = new MetadataMap[_count];
        var i = 0;
        foreach (var item in root.EnumerateArray())
        {
            maps[i++] = MetadataMap.From(item);
        }

        return maps;
    }
}

/// <summary>
/// The binary form of a payload. The in-memory copy is always rebuilt from exactly what was written, so a
/// point reads the same before and after a restart (number spellings like 12.0 included).
/// </summary>
internal static class PayloadCodec
{
    private const byte FormatVersion = 1;

    /// <summary>Throws <see cref="ArgumentException"/> for a payload that cannot be stored, before anything is written.</summary>
    public static void Validate(string id, PointPayload? payload)
    {
        if (payload is null)
        {
            throw Invalid(id, "has no payload");
        }

        _ = payload.DocumentId ?? throw Invalid(id, "has no document id");
        _ = payload.Text ?? throw Invalid(id, "has no text");
        _ = payload.ContentHash ?? throw Invalid(id, "has no content hash");
        var tags = payload.Tags ?? throw Invalid(id, "has no tag list");
        for (var i = 0; i < tags.Count; i++)
        {
            _ = tags[i] ?? throw Invalid(id, "has a null tag");
        }

        var metadata = payload.Metadata ?? throw Invalid(id, "has no metadata dictionary");
        if (metadata.Count == 0)
        {
            return;
        }

        foreach (var (key, value) in metadata)
        {
            if (key is null || value.ValueKind == JsonValueKind.Undefined)
            {
                throw Invalid(id, $"has an empty metadata entry '{key}'");
            }
        }
    }

    /// <summary>Writes a validated <paramref name="payload"/>; <see cref="Complete"/> turns the result into the stored point.</summary>
    public static PendingPoint Write(RecordWriter writer, string id, PointPayload payload, JsonScratch jsonScratch, FrameMetadata frame)
    {
        var documentId = Canonical(payload.DocumentId);
        var title = payload.Title is null ? null : Canonical(payload.Title);
        var text = Canonical(payload.Text);
        var contentHash = Canonical(payload.ContentHash);
        var tags = new string[payload.Tags.Count];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = Canonical(payload.Tags[i]);
        }

        var json = WriteFields(writer, documentId, title, text, tags, payload.Metadata, contentHash, payload.Ordinal, jsonScratch);
        return new PendingPoint(id, documentId, title, text, tags, contentHash, payload.Ordinal, json.IsEmpty ? -1 : frame.Add(json));
    }

    /// <summary>Writes a point already in the store (snapshots).</summary>
    public static void WriteStored(RecordWriter writer, StoredPoint point, JsonScratch jsonScratch)
    {
        var payload = point.Payload;
        _ = WriteFields(writer, payload.DocumentId, payload.Title, payload.Text, point.Tags, payload.Metadata, payload.ContentHash, payload.Ordinal, jsonScratch);
    }

    public static PendingPoint Read(ref RecordReader reader, string id, FrameMetadata frame)
    {
        var version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Payload of point '{id}' has unknown format version {version}.");
        }

        var documentId = reader.ReadString();
        var title = reader.ReadNullableString();
        var text = reader.ReadString();
        var tags = new string[reader.ReadVarUInt()];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = reader.ReadString();
        }

        var json = reader.ReadBytes();
        var metadataIndex = json.IsEmpty ? -1 : frame.Add(json);
        var contentHash = reader.ReadString();
        var ordinal = reader.ReadInt32();
        return new PendingPoint(id, documentId, title, text, tags, contentHash, ordinal, metadataIndex);
    }

    /// <summary>The stored point, once the frame's metadata is parsed (<see cref="FrameMetadata.Parse"/>).</summary>
    public static StoredPoint Complete(in PendingPoint pending, MetadataMap[] frameMetadata)
    {
        var metadata = pending.MetadataIndex < 0 ? null : frameMetadata[pending.MetadataIndex];
        var payload = new PointPayload(
            pending.DocumentId,
            pending.Title,
            pending.Text,
            pending.Tags.Length == 0 ? [] : new ReadOnlyCollection<string>(pending.Tags),
            metadata ?? PointPayload.NoMetadata,
            pending.ContentHash,
            pending.Ordinal);
        return new StoredPoint(pending.Id, payload, pending.Tags, metadata);
    }

    /// <summary>
    /// The string as it reads back from UTF-8. Only strings with a lone surrogate differ; storing the
    /// replaced form keeps memory and disk in agreement instead of changing the text at the next restart.
    /// </summary>
    public static string Canonical(string value)
    {
        if (value.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            return value;
        }

        var roundTripped = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value));
        return string.Equals(roundTripped, value, StringComparison.Ordinal) ? value : roundTripped;
    }

    /// <summary>Returns the metadata JSON written (empty when there is none).</summary>
    private static ReadOnlySpan<byte> WriteFields(
        RecordWriter writer,
        string documentId,
        string? title,
        string text,
        string[] tags,
        IReadOnlyDictionary<string, JsonElement> metadata,
        string contentHash,
        int ordinal,
        JsonScratch jsonScratch)
    {
        writer.WriteByte(FormatVersion);
        writer.WriteString(documentId);
        writer.WriteNullableString(title);
        writer.WriteString(text);
        writer.WriteVarUInt((uint)tags.Length);
        foreach (var tag in tags)
        {
            writer.WriteString(tag);
        }

        // A JSON object keeps each value's exact spelling (12.0 stays 12.0).
        if (metadata.Count > 0)
        {
            MetadataMap.WriteJson(metadata, jsonScratch.Start());
        }
        else
        {
            jsonScratch.Clear();
        }

        writer.WriteBytes(jsonScratch.Written);
        writer.WriteString(contentHash);
        writer.WriteInt32(ordinal);
        return jsonScratch.Written;
    }

    private static ArgumentException Invalid(string id, string problem) => new($"Point '{id}' {problem}.");
}

/// <summary>
/// <see cref="VectorFilter.Matches"/> semantics over the store's arrays, so the scan neither allocates
/// enumerators nor calls through interfaces for every point.
/// </summary>
internal sealed class CompiledFilter
{
    private readonly string[] _tags;
    private readonly KeyValuePair<string, JsonElement>[] _metadata;

    private CompiledFilter(string[] tags, KeyValuePair<string, JsonElement>[] metadata)
    {
        _tags = tags;
        _metadata = metadata;
    }

    /// <summary>Null when the filter lets everything through.</summary>
    public static CompiledFilter? Compile(VectorFilter? filter)
    {
        if (filter is null || ((filter.Tags?.Count ?? 0) == 0 && (filter.Metadata?.Count ?? 0) == 0))
        {
            return null;
        }

        return new CompiledFilter(
            filter.Tags?.ToArray() ?? [],
            filter.Metadata?.ToArray() ?? []);
    }

    /// <summary>
    /// JSON equality as <see cref="JsonElement.DeepEquals"/> defines it, with the common cases decided
    /// without parsing: identical spelling is equal, different kinds are not (true and false are kinds).
    /// </summary>
    private static bool ValueEquals(JsonElement actual, JsonElement expected)
    {
        if (actual.ValueKind != expected.ValueKind)
        {
            return false;
        }

        return JsonMarshal.GetRawUtf8Value(actual).SequenceEqual(JsonMarshal.GetRawUtf8Value(expected))
            || JsonElement.DeepEquals(actual, expected);
    }

    public bool Matches(StoredPoint point)
    {
        foreach (var tag in _tags)
        {
            if (Array.IndexOf(point.Tags, tag) < 0)
            {
                return false;
            }
        }

        if (_metadata.Length == 0)
        {
            return true;
        }

        var metadata = point.Metadata;
        if (metadata is null)
        {
            return false;
        }

        foreach (var (key, expected) in _metadata)
        {
            if (!metadata.TryGetValue(key, out var actual) || !ValueEquals(actual, expected))
            {
                return false;
            }
        }

        return true;
    }
}
