using System.Globalization;
using System.Text.Json;

namespace RagPlatform.Sdk.Remote;

/// <summary>
/// Encodes metadata entries as exact-match keyword terms, so a service whose filters only test "this list
/// holds that string" (a Qdrant keyword index, Pinecone's <c>$in</c>) can evaluate
/// <see cref="VectorFilter.Metadata"/> with <see cref="VectorFilter.Matches"/>' JSON equality: the key is
/// JSON-quoted (any characters), the value carries its kind, and numbers are canonical (12 and 12.0 give one term).
/// </summary>
public static class MetadataTerms
{
    /// <summary>One term per metadata entry of the payload.</summary>
    public static List<string> Of(IReadOnlyDictionary<string, JsonElement> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var terms = new List<string>(metadata.Count);
        foreach (var (key, value) in metadata)
        {
            terms.Add(Term(key, value));
        }

        return terms;
    }

    /// <summary>The term a point carries when its metadata holds <paramref name="key"/> = <paramref name="value"/>.</summary>
    public static string Term(string key, JsonElement value) => JsonSerializer.Serialize(key) + "=" + Value(value);

    private static string Value(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "s:" + value.GetString(),
        JsonValueKind.True => "b:true",
        JsonValueKind.False => "b:false",
        JsonValueKind.Number => "n:" + CanonicalNumber(value.GetRawText()),
        JsonValueKind.Null => "z:",
        _ => "j:" + value.GetRawText(),
    };

    private static string CanonicalNumber(string raw)
    {
        // decimal keeps 28 digits exactly (so large integers stay distinct); past its range, double's round-trip form.
        if (decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact))
        {
            // Dividing by 1.000… drops trailing zeros: 12.0 and 12 print alike.
            return (exact / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);
        }

        return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture);
    }
}
