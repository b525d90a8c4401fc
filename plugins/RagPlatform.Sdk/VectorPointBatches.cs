using System.Runtime.CompilerServices;

namespace RagPlatform.Sdk;

/// <summary>Helpers for <see cref="IVectorBackend.ImportAsync"/>: every backend writes a point stream in bounded batches.</summary>
public static class VectorPointBatches
{
    /// <summary>Groups a point stream into non-empty batches of at most <paramref name="batchSize"/> points.
    /// Each batch is a fresh list, so a backend may keep it.</summary>
    public static async IAsyncEnumerable<IReadOnlyList<VectorPoint>> ReadAsync(
        IAsyncEnumerable<VectorPoint> points, int batchSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batch = new List<VectorPoint>(batchSize);
        await foreach (var point in points.WithCancellation(cancellationToken))
        {
            batch.Add(point);
            if (batch.Count == batchSize)
            {
                yield return batch;
                batch = new List<VectorPoint>(batchSize);
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }
}
