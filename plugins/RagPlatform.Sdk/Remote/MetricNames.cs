namespace RagPlatform.Sdk.Remote;

/// <summary>How a remote vector service spells the three distance metrics, both ways.</summary>
/// <param name="service">The service's name, for the error when it reports a metric we do not have.</param>
public sealed class MetricNames(string service, string cosine, string dotProduct, string euclidean)
{
    public string NameOf(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => cosine,
        DistanceMetric.DotProduct => dotProduct,
        DistanceMetric.Euclidean => euclidean,
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };

    /// <exception cref="VectorCollectionMismatchException">The service reports a metric RagPlatform has no name for.</exception>
    public DistanceMetric Parse(string? name) =>
        name == cosine ? DistanceMetric.Cosine
        : name == dotProduct ? DistanceMetric.DotProduct
        : name == euclidean ? DistanceMetric.Euclidean
        : throw new VectorCollectionMismatchException($"{service} metric '{name}' has no RagPlatform metric.");
}
