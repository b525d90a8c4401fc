using System.Globalization;
using System.Text.Json;

namespace RagPlatform.Core.Validation;

/// <summary>The shape rules for tags and metadata, shared by documents (ingestion) and filters (search).</summary>
public static class PayloadValidation
{
    public const int MaxTags = 64;
    public const int MaxTagLength = 128;
    public const int MaxMetadataEntries = 64;
    public const int MaxMetadataKeyLength = 128;
    public const int MaxMetadataStringLength = 8_192;

    /// <summary>Tags of a request or filter: non-empty strings without control characters, de-duplicated.</summary>
    public static IReadOnlyList<string> ValidateTags(IReadOnlyList<string?>? tags, string path, Dictionary<string, string[]> errors)
    {
        if (tags is null || tags.Count == 0)
        {
            return [];
        }

        if (tags.Count > MaxTags)
        {
            Add(errors, path, $"At most {MaxTags} tags.");
            return [];
        }

        var list = new List<string>(tags.Count);
        for (var t = 0; t < tags.Count; t++)
        {
            var tag = tags[t];
            if (string.IsNullOrWhiteSpace(tag) || tag.Length > MaxTagLength || HasControl(tag))
            {
                Add(errors, string.Create(CultureInfo.InvariantCulture, $"{path}[{t}]"),
                    $"A tag is a non-empty string of at most {MaxTagLength} characters without control characters.");
            }
            else if (!list.Contains(tag, StringComparer.Ordinal))
            {
                list.Add(tag);
            }
        }

        return list;
    }

    /// <summary>Metadata of a request or filter: at most 64 keys with JSON scalar values (string, number, true, false).</summary>
    /// <param name="allowReserved">Filters may test the platform's own keys (<c>rag:pageStart</c>); documents may not set them.</param>
    public static IReadOnlyDictionary<string, JsonElement> ValidateMetadata(
        IReadOnlyDictionary<string, JsonElement>? metadata, string path, Dictionary<string, string[]> errors, bool allowReserved = false)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return new Dictionary<string, JsonElement>();
        }

        if (metadata.Count > MaxMetadataEntries)
        {
            Add(errors, path, $"At most {MaxMetadataEntries} metadata entries.");
            return new Dictionary<string, JsonElement>();
        }

        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            var field = $"{path}.{key}";
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxMetadataKeyLength || HasControl(key))
            {
                Add(errors, path, $"Metadata keys are 1-{MaxMetadataKeyLength} characters without control characters.");
                continue;
            }

            if (!allowReserved && key.StartsWith(RagPlatform.Sdk.ChunkLocation.ReservedPrefix, StringComparison.Ordinal))
            {
                Add(errors, field, $"Metadata keys starting with '{RagPlatform.Sdk.ChunkLocation.ReservedPrefix}' are reserved for the platform (a chunk's section and pages).");
                continue;
            }

            switch (value.ValueKind)
            {
                case JsonValueKind.String when value.GetString()!.Length > MaxMetadataStringLength:
                    Add(errors, field, $"A metadata string is at most {MaxMetadataStringLength} characters.");
                    break;
                case JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    result[key] = value.Clone();
                    break;
                default:
                    Add(errors, field, $"Metadata values must be a string, number or boolean, not {value.ValueKind.ToString().ToLowerInvariant()}.");
                    break;
            }
        }

        return result;
    }

    /// <summary>Control characters and lone surrogates (text that is not valid Unicode).</summary>
    public static bool HasControl(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
            {
                return true;
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    public static void Add(Dictionary<string, string[]> errors, string field, string message) =>
        errors[field] = errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
}
