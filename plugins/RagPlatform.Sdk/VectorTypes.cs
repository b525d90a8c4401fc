using System.Text.Json;

namespace RagPlatform.Sdk;

public enum DistanceMetric
{
    /// <summary>Cosine similarity; higher is closer. Scores are in [-1, 1].</summary>
    Cosine,

    /// <summary>Inner product; higher is closer.</summary>
    DotProduct,

    /// <summary>Euclidean distance, reported as a negated distance so that higher is still closer.</summary>
    Euclidean,
}

/// <summary>What a collection holds: its vector size, metric and the one model fingerprint all its vectors share.</summary>
public sealed record VectorCollectionSpec(string Name, int Dimensions, DistanceMetric Metric, ModelFingerprint Fingerprint)
{
    /// <summary>
    /// The checks every backend makes before it creates or matches a collection (a name, at least one
    /// dimension, a known metric, a fingerprint of the same size); backends add their own limits after it.
    /// </summary>
    /// <exception cref="ArgumentException">The spec cannot describe a collection.</exception>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name, nameof(Name));
        ArgumentOutOfRangeException.ThrowIfLessThan(Dimensions, 1, nameof(Dimensions));
        if (!Enum.IsDefined(Metric))
        {
            throw new ArgumentOutOfRangeException(nameof(Metric), $"Unknown distance metric {Metric}.");
        }

        ArgumentNullException.ThrowIfNull(Fingerprint, nameof(Fingerprint));
        if (Fingerprint.Dimensions != Dimensions)
        {
            throw new ArgumentException($"Collection '{Name}' has {Dimensions} dimensions but its fingerprint says {Fingerprint.Dimensions}.", nameof(Dimensions));
        }
    }
}

/// <summary>A stored vector and what it was made from.</summary>
public sealed record VectorPoint(string Id, float[] Vector, PointPayload Payload);

/// <summary>
/// What a point carries besides its vector. <see cref="Metadata"/> values are JSON scalars
/// (string, number, true, false); the host rejects anything else at ingestion.
/// </summary>
public sealed record PointPayload(
    string DocumentId,
    string? Title,
    string Text,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    string ContentHash,
    int Ordinal)
{
    public static readonly IReadOnlyDictionary<string, JsonElement> NoMetadata = new Dictionary<string, JsonElement>();
}

/// <summary>
/// Restricts a search or count. A point passes when it carries every tag in <see cref="Tags"/> and, for every
/// key in <see cref="Metadata"/>, has an equal value (JSON equality, so 12 equals 12.0). Empty means "all".
/// </summary>
public sealed record VectorFilter(IReadOnlyList<string> Tags, IReadOnlyDictionary<string, JsonElement> Metadata)
{
    public static readonly VectorFilter None = new([], PointPayload.NoMetadata);

    public bool IsEmpty => Tags.Count == 0 && Metadata.Count == 0;

    /// <summary>The reference semantics every backend must match (the conformance kit checks it).</summary>
    public bool Matches(PointPayload payload)
    {
        foreach (var tag in Tags)
        {
            var found = false;
            foreach (var own in payload.Tags)
            {
                if (string.Equals(own, tag, StringComparison.Ordinal))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        foreach (var (key, expected) in Metadata)
        {
            if (!payload.Metadata.TryGetValue(key, out var actual) || !JsonElement.DeepEquals(actual, expected))
            {
                return false;
            }
        }

        return true;
    }
}

public sealed record VectorQuery(float[] Vector, int TopK, VectorFilter? Filter = null);

/// <summary>A search result: higher <see cref="Score"/> is closer, whatever the metric.</summary>
public sealed record VectorSearchHit(string Id, float Score, PointPayload Payload);

/// <summary>A collection exists with other dimensions, metric or fingerprint than asked for.</summary>
public sealed class VectorCollectionMismatchException(string message) : InvalidOperationException(message);

/// <summary>The named collection does not exist in the backend.</summary>
public sealed class VectorCollectionNotFoundException(string collection)
    : InvalidOperationException($"Vector collection '{collection}' does not exist.")
{
    public string Collection { get; } = collection;
}

/// <summary>A vector does not fit the collection (wrong length, NaN or infinity).</summary>
public sealed class InvalidVectorException(string message) : ArgumentException(message);
