namespace RagPlatform.Core.Caching;

/// <summary>
/// The platform's one cache abstraction: document and query embeddings, search results and collection records
/// all go through it. Best effort by contract: a cache that fails must behave as a miss, never as an error to
/// the user. A key starts with its kind (<see cref="CacheKinds"/>), which the hit/miss counters report.
/// </summary>
public interface IRagCache
{
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>Many keys at once (one round trip where the cache can); one answer per key, in key order.</summary>
    async ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var values = new byte[]?[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            values[i] = await GetAsync(keys[i], cancellationToken);
        }

        return values;
    }

    /// <summary>Many values at once, all with the same time to live.</summary>
    async ValueTask SetManyAsync(IReadOnlyList<KeyValuePair<string, byte[]>> entries, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        foreach (var (key, value) in entries)
        {
            await SetAsync(key, value, timeToLive, cancellationToken);
        }
    }
}

/// <summary><c>RagPlatform:Cache</c>: the in-process tier's size and the time to live of each kind of entry.</summary>
public sealed class CacheOptions
{
    /// <summary>Upper bound on the in-process (L1) tier, in bytes of cached keys and values; the least recently used go first.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, long.MaxValue)]
    public long MemoryCacheBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long a document embedding stays cached (seconds); 0 turns the embedding cache off.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, int.MaxValue)]
    public int EmbeddingSeconds { get; set; } = 30 * 86_400;

    /// <summary>How long a collection record stays in the document-metadata cache at most (seconds); 0 turns it off.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, int.MaxValue)]
    public int MetadataSeconds { get; set; } = 300;
}

/// <summary>Validates <see cref="CacheOptions"/> at start (generated at compile time).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
public sealed partial class CacheOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<CacheOptions>;
