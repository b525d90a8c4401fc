using System.Numerics.Tensors;

namespace RagPlatform.Sdk;

/// <summary>Small helpers every backend and provider needs, so they agree on the arithmetic.</summary>
public static class VectorMath
{
    /// <summary>Scales the vector to unit length in place; a zero vector stays zero.</summary>
    public static void NormalizeInPlace(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0f && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
    }

    /// <summary>Checks a vector's length and values; throws <see cref="InvalidVectorException"/> otherwise.</summary>
    public static void Validate(ReadOnlySpan<float> vector, int dimensions, string pointId)
    {
        if (vector.Length != dimensions)
        {
            throw new InvalidVectorException(
                $"Vector for point '{pointId}' has {vector.Length} dimensions; the collection has {dimensions}.");
        }

        foreach (var value in vector)
        {
            if (!float.IsFinite(value))
            {
                throw new InvalidVectorException($"Vector for point '{pointId}' contains NaN or infinity.");
            }
        }
    }
}
