using Microsoft.Extensions.Caching.Memory;

namespace RagPlatform.Core.Caching;

/// <summary>
/// The cache the query path uses (query embeddings, search results). Best effort by contract: a cache
/// that fails must behave as a miss, never as an error to the user.
/// </summary>
public interface IRagCache
{
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken);
}

public sealed class CacheOptions
{
    /// <summary>Upper bound on the in-process cache, in bytes of cached values.</summary>
    public long MemoryCacheBytes { get; set; } = 256L * 1024 * 1024;
}

/// <summary>The embedded mode's cache: an in-process, size-bounded LRU-ish memory cache.</summary>
public sealed class MemoryRagCache(CacheOptions options) : IRagCache, IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = options.MemoryCacheBytes });

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_cache.TryGetValue(key, out byte[]? value) ? value : null);

    public ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        _cache.Set(key, value, new MemoryCacheEntryOptions
        {
            Size = value.Length + key.Length * 2 + 64,
            AbsoluteExpirationRelativeToNow = timeToLive,
        });
        return ValueTask.CompletedTask;
    }

    public void Dispose() => _cache.Dispose();
}
