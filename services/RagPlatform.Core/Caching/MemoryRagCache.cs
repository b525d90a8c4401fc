namespace RagPlatform.Core.Caching;

/// <summary>
/// The in-process tier (L1): a least-recently-used cache bounded by <see cref="CacheOptions.MemoryCacheBytes"/>
/// (keys and values counted), with a time to live per entry. It is the whole cache in the embedded mode and
/// the front of Redis in the distributed one. Setting a value evicts the least recently read or written
/// entries until the bound holds again; a value larger than the whole bound is not kept.
/// </summary>
public sealed class MemoryRagCache : IRagCache, IDisposable
{
    /// <summary>What an entry costs beyond its key and value (node, entry, dictionary slot), roughly.</summary>
    private const int EntryOverhead = 96;

    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private readonly long _capacity;
    private readonly CacheMetrics? _metrics;
    private readonly TimeProvider _time;
    private long _size;

    public MemoryRagCache(CacheOptions options, CacheMetrics? metrics = null, TimeProvider? time = null)
    {
        _capacity = Math.Max(0, options.MemoryCacheBytes);
        _metrics = metrics;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Bytes the entries take, as counted against the bound.</summary>
    public long SizeBytes
    {
        get
        {
            lock (_gate)
            {
                return _size;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>What an entry of this key and value counts against <see cref="CacheOptions.MemoryCacheBytes"/>.</summary>
    public static long SizeOf(string key, byte[] value) => value.Length + (key.Length * 2L) + EntryOverhead;

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var value = Get(key);
        _metrics?.Record(key, CacheMetrics.MemoryTier, value is not null);
        return ValueTask.FromResult(value);
    }

    public ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        Set(key, value, timeToLive);
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _entries.Clear();
            _recency.Clear();
            _size = 0;
        }
    }

    private byte[]? Get(string key)
    {
        var now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return null;
            }

            if (node.Value.ExpiresTicks <= now)
            {
                Remove(node);
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Value;
        }
    }

    private void Set(string key, byte[] value, TimeSpan timeToLive)
    {
        var size = SizeOf(key, value);
        var expires = timeToLive <= TimeSpan.Zero ? 0 : _time.GetUtcNow().UtcTicks + Math.Min(timeToLive.Ticks, TimeSpan.FromDays(3650).Ticks);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                Remove(existing);
            }

            if (expires == 0 || size > _capacity)
            {
                return;
            }

            _entries[key] = _recency.AddFirst(new Entry(key, value, size, expires));
            _size += size;
            while (_size > _capacity && _recency.Last is { } oldest)
            {
                Remove(oldest);
            }
        }
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _size -= node.Value.Size;
    }

    private sealed record Entry(string Key, byte[] Value, long Size, long ExpiresTicks);
}
