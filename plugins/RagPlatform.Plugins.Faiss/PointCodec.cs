using System.Runtime.InteropServices;
using System.Text.Json;
using RagPlatform.Sdk;

namespace RagPlatform.Plugins.Faiss;

/// <summary>A live point: what the caller stored, plus the 64-bit id its vector has inside the FAISS index.</summary>
internal sealed record StoredPoint(string Id, long FaissId, float[] Vector, PointPayload Payload)
{
    public VectorPoint ToVectorPoint() => new(Id, (float[])Vector.Clone(), Payload);
}

/// <summary>
/// Binary form of points in the snapshot and the write log. Vectors are stored bit for bit (the index may
/// hold a normalised copy); metadata values keep their JSON spelling, so 12.0 reads back as 12.0.
/// </summary>
internal static class PointCodec
{
    public static void Write(BinaryWriter writer, StoredPoint point)
    {
        writer.Write(point.Id);
        writer.Write(point.FaissId);
        writer.Write(point.Vector.Length);
        writer.Write(MemoryMarshal.AsBytes(point.Vector.AsSpan()));
        var payload = point.Payload;
        writer.Write(payload.DocumentId);
        writer.Write(payload.Title is not null);
        if (payload.Title is not null)
        {
            writer.Write(payload.Title);
        }

        writer.Write(payload.Text);
        writer.Write(payload.Tags.Count);
        foreach (var tag in payload.Tags)
        {
            writer.Write(tag);
        }

        writer.Write(payload.Metadata.Count);
        foreach (var (key, value) in payload.Metadata)
        {
            writer.Write(key);
            writer.Write(value.GetRawText());
        }

        writer.Write(payload.ContentHash);
        writer.Write(payload.Ordinal);
    }

    public static StoredPoint Read(BinaryReader reader)
    {
        var id = reader.ReadString();
        var faissId = reader.ReadInt64();
        var dimensions = reader.ReadInt32();
        var vector = new float[dimensions];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
        var documentId = reader.ReadString();
        var title = reader.ReadBoolean() ? reader.ReadString() : null;
        var text = reader.ReadString();
        var tags = new string[reader.ReadInt32()];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = reader.ReadString();
        }

        var metadataCount = reader.ReadInt32();
        IReadOnlyDictionary<string, JsonElement> metadata = PointPayload.NoMetadata;
        if (metadataCount > 0)
        {
            var map = new Dictionary<string, JsonElement>(metadataCount, StringComparer.Ordinal);
            for (var i = 0; i < metadataCount; i++)
            {
                var key = reader.ReadString();
                map[key] = JsonElement.Parse(reader.ReadString());
            }

            metadata = map;
        }

        var contentHash = reader.ReadString();
        var ordinal = reader.ReadInt32();
        return new StoredPoint(id, faissId, vector, new PointPayload(documentId, title, text, tags, metadata, contentHash, ordinal));
    }

    /// <summary>FNV-1a over a log record, so a record torn by a crash is recognised and dropped.</summary>
    public static uint Checksum(ReadOnlySpan<byte> data)
    {
        var hash = 2166136261u;
        foreach (var b in data)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
