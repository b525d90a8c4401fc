using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Caching;

/// <summary>
/// Embeddings by (model fingerprint, purpose, SHA-256 of the exact input text), over <see cref="IRagCache"/>:
/// L1 in-process, L2 Redis when configured, so every worker (and query replica) sharing that Redis shares them.
/// Content-addressed, so an entry never goes stale: the same model given the same text gives the same vector,
/// whichever collection asks. Vectors are stored as their float32 bytes (little-endian) and checked on read:
/// a value of the wrong length or with a non-finite number is a miss, never a vector.
/// </summary>
public sealed class EmbeddingCache(IRagCache cache, IOptions<CacheOptions> options)
{
    /// <summary>Seconds a document embedding is kept (<c>RagPlatform:Cache:EmbeddingSeconds</c>); 0 is off.</summary>
    public int DocumentSeconds => options.Value.EmbeddingSeconds;

    /// <summary>
    /// The key: purpose in the prefix (a provider may embed a query and a passage differently, e.g. E5's
    /// "query: " prefix), then the fingerprint's hash, then the text's.
    /// </summary>
    public static string Key(ModelFingerprint fingerprint, EmbeddingPurpose purpose, string text) => KeyPrefix(fingerprint, purpose) + Sha256(text);

    /// <summary>Everything of the key but the text's hash (computed once per batch).</summary>
    private static string KeyPrefix(ModelFingerprint fingerprint, EmbeddingPurpose purpose) =>
        (purpose == EmbeddingPurpose.Query ? CacheKinds.QueryEmbeddingPrefix : CacheKinds.EmbeddingPrefix) + Sha256(fingerprint.ToString()) + ":";

    public static byte[] Encode(ReadOnlySpan<float> vector) => MemoryMarshal.AsBytes(vector).ToArray();

    /// <summary>The vector in <paramref name="bytes"/>, or null when they are not exactly one valid vector of that many dimensions.</summary>
    public static float[]? Decode(byte[]? bytes, int dimensions)
    {
        if (bytes is null || !BitConverter.IsLittleEndian || bytes.Length != dimensions * sizeof(float))
        {
            return null;
        }

        var vector = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        foreach (var value in vector)
        {
            if (!float.IsFinite(value))
            {
                return null;
            }
        }

        return vector;
    }

    /// <summary>One vector (or null for a miss) per text, in text order; one round trip to L2 for the lot.</summary>
    public async Task<float[]?[]> GetAsync(ModelFingerprint fingerprint, EmbeddingPurpose purpose, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var prefix = KeyPrefix(fingerprint, purpose);
        var keys = texts.Select(t => prefix + Sha256(t)).ToList();
        var found = await cache.GetManyAsync(keys, cancellationToken);
        return found.Select(bytes => Decode(bytes, fingerprint.Dimensions)).ToArray();
    }

    public async Task SetAsync(
        ModelFingerprint fingerprint, EmbeddingPurpose purpose, IReadOnlyList<KeyValuePair<string, float[]>> vectors, TimeSpan timeToLive,
        CancellationToken cancellationToken)
    {
        if (vectors.Count == 0 || timeToLive <= TimeSpan.Zero)
        {
            return;
        }

        var prefix = KeyPrefix(fingerprint, purpose);
        var entries = vectors.Select(v => new KeyValuePair<string, byte[]>(prefix + Sha256(v.Key), Encode(v.Value))).ToList();
        await cache.SetManyAsync(entries, timeToLive, cancellationToken);
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
