using System.Globalization;
using System.Text.Json;

namespace RagPlatform.Sdk;

/// <summary>
/// Where a chunk sits in its source file: the path of headings above it (outermost first, joined by
/// <see cref="PathSeparator"/>) and the pages it spans. It travels in the point's metadata under reserved keys
/// (<see cref="SectionKey"/>, <see cref="PageStartKey"/>, <see cref="PageEndKey"/>), so every vector backend stores
/// and filters it like any metadata without knowing it exists; the host lifts it out into the search results'
/// <c>section</c>, <c>pageStart</c> and <c>pageEnd</c>. Documents may not use the <see cref="ReservedPrefix"/> themselves.
/// </summary>
public sealed record ChunkLocation(string? Section, int? PageStart, int? PageEnd)
{
    public const string ReservedPrefix = "rag:";
    public const string SectionKey = "rag:section";
    public const string PageStartKey = "rag:pageStart";
    public const string PageEndKey = "rag:pageEnd";
    public const string PathSeparator = " > ";

    public static readonly ChunkLocation None = new(null, null, null);

    public bool IsEmpty => Section is null && PageStart is null && PageEnd is null;

    /// <summary>The location a payload's metadata carries (<see cref="None"/> when it carries none).</summary>
    public static ChunkLocation Of(IReadOnlyDictionary<string, JsonElement> metadata)
    {
        if (metadata.Count == 0)
        {
            return None;
        }

        var section = metadata.TryGetValue(SectionKey, out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        return new ChunkLocation(section, Page(metadata, PageStartKey), Page(metadata, PageEndKey));
    }

    /// <summary>The document's metadata with this location added (the same instance when there is nothing to add).</summary>
    public IReadOnlyDictionary<string, JsonElement> AddTo(IReadOnlyDictionary<string, JsonElement> metadata)
    {
        if (IsEmpty)
        {
            return metadata;
        }

        var merged = new Dictionary<string, JsonElement>(metadata, StringComparer.Ordinal);
        if (Section is not null)
        {
            merged[SectionKey] = JsonSerializer.SerializeToElement(Section);
        }

        if (PageStart is { } start)
        {
            merged[PageStartKey] = JsonSerializer.SerializeToElement(start);
        }

        if (PageEnd is { } end)
        {
            merged[PageEndKey] = JsonSerializer.SerializeToElement(end);
        }

        return merged;
    }

    /// <summary>The metadata without the reserved keys: what a document's owner put there.</summary>
    public static IReadOnlyDictionary<string, JsonElement> Strip(IReadOnlyDictionary<string, JsonElement> metadata)
    {
        var reserved = false;
        foreach (var key in metadata.Keys)
        {
            if (key.StartsWith(ReservedPrefix, StringComparison.Ordinal))
            {
                reserved = true;
                break;
            }
        }

        return reserved
            ? metadata.Where(m => !m.Key.StartsWith(ReservedPrefix, StringComparison.Ordinal)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal)
            : metadata;
    }

    /// <summary>Stable text of the location for hashing (empty when there is none).</summary>
    public string HashText() => IsEmpty
        ? string.Empty
        : string.Create(CultureInfo.InvariantCulture, $"{Section}\u001F{PageStart}\u001F{PageEnd}");

    private static int? Page(IReadOnlyDictionary<string, JsonElement> metadata, string key) =>
        metadata.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var page) ? page : null;
}
