using Microsoft.Extensions.Logging;
using RagPlatform.Core.Caching;
using StackExchange.Redis;

namespace RagPlatform.Caching.Redis;

/// <summary>
/// The distributed mode's query cache: a short-lived in-process tier (L1) in front of Redis (L2), shared by
/// every query API replica. Best effort by contract: Redis down, slow or refusing is a miss, never an error,
/// and never a long stall: while the connection is down Redis is skipped outright (the multiplexer reconnects
/// in the background), every command is bounded by a short timeout, and after a failure Redis is skipped
/// for <see cref="RedisCacheOptions.BreakSeconds"/> before it is tried again. Caching resumes by itself.
/// </summary>
/// <remarks>
/// The L1 tier cannot change what a search answers: result keys carry the collection version and query
/// embedding keys the model fingerprint and text, so a value is valid for as long as its key is used; L1 only
/// bounds how long a replica keeps it (never longer than the TTL the caller asked for, nor than Redis holds it).
/// </remarks>
public sealed class RedisRagCache : IRagCache, IDisposable
{
    private readonly IConnectionMultiplexer _connection;
    private readonly RedisCacheOptions _options;
    private readonly MemoryRagCache? _memory;
    private readonly ILogger<RedisRagCache> _logger;
    private readonly TimeProvider _time;
    private readonly CacheMetrics? _metrics;
    private readonly TimeSpan _operationTimeout;
    private long _skipUntilTicks;
    private int _failureLogged;

    /// <param name="connection">The process's Redis connection (Aspire's <c>AddRedisClient</c> registers it; it
    /// reconnects by itself). Not owned: the container disposes it.</param>
    public RedisRagCache(
        IConnectionMultiplexer connection, RedisCacheOptions options, MemoryRagCache? memory, ILogger<RedisRagCache> logger,
        TimeProvider? time = null, CacheMetrics? metrics = null)
    {
        _connection = connection;
        _metrics = metrics;
        _options = options;
        _memory = memory;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _operationTimeout = TimeSpan.FromMilliseconds(options.OperationTimeoutMilliseconds);
        Endpoints = string.Join(", ", connection.GetEndPoints().Select(Describe));
    }

    /// <summary>Where the cache lives, without credentials (safe to log and show).</summary>
    public string Endpoints { get; }

    /// <summary>True when Redis is connected and not being skipped after a failure.</summary>
    public bool IsAvailable => TryGetDatabase(out _);

    /// <summary>
    /// What a cache needs of the connection, applied over Aspire's (which keeps abortConnect=false: the service starts
    /// and the multiplexer connects in the background while Redis is down): a request is never held up for long.
    /// </summary>
    public static void Configure(ConfigurationOptions configuration, RedisCacheOptions options)
    {
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = options.ConnectTimeoutMilliseconds;
        configuration.SyncTimeout = options.OperationTimeoutMilliseconds;
        configuration.AsyncTimeout = options.OperationTimeoutMilliseconds;
        // Not a retry policy for calls: the multiplexer's reconnect. A cache call is never retried (a miss is
        // cheaper than a wait), so RagPlatform.Sdk.Remote.RemoteRetry has nothing to do here.
        configuration.ConnectRetry = 1;
    }

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (_memory is not null && await _memory.GetAsync(key, cancellationToken) is { } local)
        {
            return local;
        }

        if (!TryGetDatabase(out var database))
        {
            _metrics?.Record(key, CacheMetrics.RedisTier, hit: false);
            return null;
        }

        try
        {
            var found = await database.StringGetWithExpiryAsync(_options.KeyPrefix + key).WaitAsync(_operationTimeout, cancellationToken);
            Succeeded();
            _metrics?.Record(key, CacheMetrics.RedisTier, !found.Value.IsNull);
            if (found.Value.IsNull)
            {
                return null;
            }

            byte[] value = found.Value!;
            if (_memory is not null && MemoryTimeToLive(found.Expiry ?? TimeSpan.MaxValue) is { } ttl)
            {
                await _memory.SetAsync(key, value, ttl, cancellationToken);
            }

            return value;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics?.Record(key, CacheMetrics.RedisTier, hit: false);
            Failed(ex);
            return null;
        }
    }

    /// <summary>L1 first, then one MGET for what it missed. Values found in Redis are copied into L1 for the
    /// memory tier's time (their remaining Redis lifetime is not read back, so L1 never outlives a short
    /// caller TTL by more than <see cref="RedisCacheOptions.MemoryTierSeconds"/>).</summary>
    public async ValueTask<byte[]?[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var values = new byte[]?[keys.Count];
        var missing = new List<int>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            if (_memory is not null && await _memory.GetAsync(keys[i], cancellationToken) is { } local)
            {
                values[i] = local;
            }
            else
            {
                missing.Add(i);
            }
        }

        if (missing.Count == 0)
        {
            return values;
        }

        if (!TryGetDatabase(out var database))
        {
            RecordMany(keys, missing, found: null);
            return values;
        }

        try
        {
            var found = await database.StringGetAsync(missing.Select(i => (RedisKey)(_options.KeyPrefix + keys[i])).ToArray())
                .WaitAsync(_operationTimeout, cancellationToken);
            Succeeded();
            RecordMany(keys, missing, found);
            for (var m = 0; m < missing.Count; m++)
            {
                if (found[m].IsNull)
                {
                    continue;
                }

                byte[] value = found[m]!;
                values[missing[m]] = value;
                if (_memory is not null && _options.MemoryTierSeconds > 0)
                {
                    await _memory.SetAsync(keys[missing[m]], value, TimeSpan.FromSeconds(_options.MemoryTierSeconds), cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            RecordMany(keys, missing, found: null);
            Failed(ex);
        }

        return values;
    }

    /// <summary>L1 each, then every SET sent without waiting for the one before (pipelined), awaited together.</summary>
    public async ValueTask SetManyAsync(IReadOnlyList<KeyValuePair<string, byte[]>> entries, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return;
        }

        if (_memory is not null && MemoryTimeToLive(timeToLive) is { } ttl)
        {
            foreach (var (key, value) in entries)
            {
                await _memory.SetAsync(key, value, ttl, cancellationToken);
            }
        }

        if (!TryGetDatabase(out var database))
        {
            return;
        }

        try
        {
            var writes = entries.Select(e => database.StringSetAsync(_options.KeyPrefix + e.Key, e.Value, timeToLive)).ToArray();
            await Task.WhenAll(writes).WaitAsync(_operationTimeout * Math.Max(1, Math.Min(20, entries.Count / 256)), cancellationToken);
            Succeeded();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Failed(ex);
        }
    }

    public async ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        if (_memory is not null && MemoryTimeToLive(timeToLive) is { } ttl)
        {
            await _memory.SetAsync(key, value, ttl, cancellationToken);
        }

        if (!TryGetDatabase(out var database))
        {
            return;
        }

        try
        {
            await database.StringSetAsync(_options.KeyPrefix + key, value, timeToLive).WaitAsync(_operationTimeout, cancellationToken);
            Succeeded();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Failed(ex);
        }
    }

    public void Dispose() => _memory?.Dispose();

    /// <summary>host:port (a DnsEndPoint's own ToString prefixes the address family).</summary>
    public static string Describe(System.Net.EndPoint endpoint) => endpoint switch
    {
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString() ?? "",
    };

    private void RecordMany(IReadOnlyList<string> keys, List<int> looked, RedisValue[]? found)
    {
        if (_metrics is null)
        {
            return;
        }

        // One kind per call in practice (a batch of embeddings); tally per kind all the same.
        foreach (var group in looked.Select((index, m) => (Key: keys[index], Hit: found is not null && !found[m].IsNull)).GroupBy(l => CacheKinds.Of(l.Key)))
        {
            var hits = group.Count(l => l.Hit);
            _metrics.Record(group.First().Key, CacheMetrics.RedisTier, hits, group.Count() - hits);
        }
    }

    private TimeSpan? MemoryTimeToLive(TimeSpan requested)
    {
        var ttl = TimeSpan.FromSeconds(Math.Min(requested.TotalSeconds, _options.MemoryTierSeconds));
        return ttl > TimeSpan.Zero ? ttl : null;
    }

    private bool TryGetDatabase(out IDatabase database)
    {
        database = null!;
        if (_time.GetUtcNow().UtcTicks < Interlocked.Read(ref _skipUntilTicks) || !_connection.IsConnected)
        {
            // After a failure, or while the multiplexer reconnects after Redis went away: skip without waiting.
            return false;
        }

        database = _connection.GetDatabase();
        return true;
    }

    private void Succeeded()
    {
        if (Interlocked.Exchange(ref _failureLogged, 0) == 1)
        {
            _logger.LogInformation("Redis cache at {Endpoints} is answering again", Endpoints);
        }
    }

    private void Failed(Exception ex)
    {
        Interlocked.Exchange(ref _skipUntilTicks, _time.GetUtcNow().AddSeconds(_options.BreakSeconds).UtcTicks);
        if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
        {
            // The type only: Redis exception messages can quote the configuration string.
            _logger.LogWarning("Redis cache at {Endpoints} failed ({Error}); serving without it for {Seconds} s at a time until it answers",
                Endpoints, ex.GetType().Name, _options.BreakSeconds);
        }
    }
}
