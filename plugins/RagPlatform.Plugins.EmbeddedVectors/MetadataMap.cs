using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace RagPlatform.Plugins.EmbeddedVectors;

/// <summary>
/// A point's metadata as stored: entries in their original order, values in a detached JSON document. Points
/// carry a handful of keys, so a linear scan beats hashing and keeps each point down to two small objects
/// besides the shared document (a Dictionary plus a read-only wrapper was five, and every one is copied by each
/// GC that promotes the point). Read-only by construction, so it is handed to callers as it is.
/// </summary>
internal sealed class MetadataMap : IReadOnlyDictionary<string, JsonElement>
{
    private readonly KeyValuePair<string, JsonElement>[] _entries;

    private MetadataMap(KeyValuePair<string, JsonElement>[] entries) => _entries = entries;

    public int Count => _entries.Length;

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public IEnumerable<JsonElement> Values => _entries.Select(e => e.Value);

    public JsonElement this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"No metadata key '{key}'.");

    /// <summary>Wraps a JSON object element (one of a frame's, see <see cref="FrameMetadata"/>).</summary>
    public static MetadataMap From(JsonElement jsonObject)
    {
        if (jsonObject.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"Stored point metadata is a JSON {jsonObject.ValueKind}, not an object.");
        }

        var entries = new KeyValuePair<string, JsonElement>[jsonObject.GetPropertyCount()];
        var i = 0;
        foreach (var property in jsonObject.EnumerateObject())
        {
            entries[i++] = new(property.Name, property.Value);
        }

        return new MetadataMap(entries);
    }

    /// <summary>Writes <paramref name="metadata"/> as one JSON object; each value keeps its exact spelling (12.0 stays 12.0).</summary>
    public static void WriteJson(IReadOnlyDictionary<string, JsonElement> metadata, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        foreach (var (key, value) in metadata)
        {
            json.WritePropertyName(key);
            value.WriteTo(json);
        }

        json.WriteEndObject();
        json.Flush();
    }

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out JsonElement value)
    {
        foreach (var entry in _entries)
        {
            if (string.Equals(entry.Key, key, StringComparison.Ordinal))
            {
                value = entry.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, JsonElement>>)_entries).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A reusable buffer and writer for metadata JSON, so encoding a point allocates no writer.</summary>
internal sealed class JsonScratch : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;

    public JsonScratch() => _writer = new Utf8JsonWriter(_buffer);

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    /// <summary>Empties the buffer and returns the writer, ready for one value.</summary>
    public Utf8JsonWriter Start()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        return _writer;
    }

    public void Clear() => _buffer.ResetWrittenCount();

    public void Dispose() => _writer.Dispose();
}
