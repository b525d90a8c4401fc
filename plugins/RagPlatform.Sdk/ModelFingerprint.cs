using System.Globalization;

namespace RagPlatform.Sdk;

/// <summary>
/// Identifies a vector space exactly. Two vectors are comparable only when their fingerprints are equal:
/// a collection never mixes fingerprints, and a provider fallback is allowed only between equal fingerprints.
/// </summary>
public sealed record ModelFingerprint(
    string Provider,
    string Model,
    string Revision,
    int Dimensions,
    string Pooling,
    string Normalization)
{
    /// <summary>Canonical text form, e.g. <c>hashing/korean-ngram-v1@1;dim=1024;pool=none;norm=l2</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Provider}/{Model}@{Revision};dim={Dimensions};pool={Pooling};norm={Normalization}");

    /// <summary>True when vectors of both fingerprints live in the same space (the provider may differ).</summary>
    public bool IsSameVectorSpace(ModelFingerprint other) =>
        string.Equals(Model, other.Model, StringComparison.Ordinal)
        && string.Equals(Revision, other.Revision, StringComparison.Ordinal)
        && Dimensions == other.Dimensions
        && string.Equals(Pooling, other.Pooling, StringComparison.Ordinal)
        && string.Equals(Normalization, other.Normalization, StringComparison.Ordinal);

    public static ModelFingerprint Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var parts = text.Split(';');
        var head = parts[0];
        var slash = head.IndexOf('/', StringComparison.Ordinal);
        var at = head.LastIndexOf('@');
        if (slash <= 0 || at <= slash || parts.Length != 4)
        {
            throw new FormatException($"'{text}' is not a model fingerprint (provider/model@revision;dim=N;pool=P;norm=N).");
        }

        string Value(string part, string key) =>
            part.StartsWith(key + "=", StringComparison.Ordinal)
                ? part[(key.Length + 1)..]
                : throw new FormatException($"'{text}' is not a model fingerprint: expected '{key}=' in '{part}'.");

        return new ModelFingerprint(
            head[..slash],
            head[(slash + 1)..at],
            head[(at + 1)..],
            int.Parse(Value(parts[1], "dim"), NumberStyles.None, CultureInfo.InvariantCulture),
            Value(parts[2], "pool"),
            Value(parts[3], "norm"));
    }
}
