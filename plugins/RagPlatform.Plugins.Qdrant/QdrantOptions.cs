namespace RagPlatform.Plugins.Qdrant;

/// <summary>Settings of the Qdrant backend (section <c>RagPlatform:VectorStore:Backends:qdrant</c>).</summary>
public sealed class QdrantOptions
{
    /// <summary>Qdrant's default limit on a request body (service.max_request_size_mb = 32).</summary>
    public const long QdrantDefaultRequestLimitBytes = 32L * 1024 * 1024;

    /// <summary>
    /// Name of the Aspire resource: the REST address and key come from <c>ConnectionStrings:&lt;name&gt;_http</c>
    /// (<c>Endpoint=http://host:6333;Key=…</c>).
    /// </summary>
    public string ConnectionName { get; set; } = "qdrant";

    /// <summary>Upserts are split so no request body exceeds this many bytes (keep it under the server's max_request_size_mb).</summary>
    public long MaxRequestBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Upserts are also split past this many points per request.</summary>
    public int MaxBatchPoints { get; set; } = 512;

    /// <summary>Points per scroll page when exporting.</summary>
    public int ScrollPageSize { get; set; } = 256;

    /// <summary>HNSW graph degree (m) of new collections.</summary>
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW build breadth (ef_construct) of new collections.</summary>
    public int HnswEfConstruct { get; set; } = 100;

    /// <summary>HNSW search breadth (hnsw_ef) of queries; raised to k when smaller.</summary>
    public int HnswEf { get; set; } = 128;

    /// <summary>True: every query is an exact scan (params.exact), e.g. for evaluation.</summary>
    public bool ExactSearch { get; set; }

    /// <summary>Keep payloads (chunk text) on disk rather than in RAM (on_disk_payload).</summary>
    public bool OnDiskPayload { get; set; } = true;

    /// <summary>Per-request timeout.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Attempts per request, the first included (429, 5xx, timeouts and connection failures are retried).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>First backoff delay; it doubles (with jitter) per retry, up to 8 s. A Retry-After header wins (capped at 30 s).</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 250;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionName))
        {
            yield return $"{nameof(ConnectionName)} must name the connection string (ConnectionStrings:<name>_http).";
        }

        if (MaxRequestBytes is < 64 * 1024 or > QdrantDefaultRequestLimitBytes)
        {
            yield return $"{nameof(MaxRequestBytes)} must be between 65536 and {QdrantDefaultRequestLimitBytes} (Qdrant's default limit); was {MaxRequestBytes}.";
        }

        if (MaxBatchPoints < 1)
        {
            yield return $"{nameof(MaxBatchPoints)} must be at least 1 (was {MaxBatchPoints}).";
        }

        if (ScrollPageSize is < 1 or > 10_000)
        {
            yield return $"{nameof(ScrollPageSize)} must be between 1 and 10000 (was {ScrollPageSize}).";
        }

        if (HnswM < 4 || HnswEfConstruct < 4 || HnswEf < 1)
        {
            yield return $"{nameof(HnswM)} and {nameof(HnswEfConstruct)} must be at least 4 and {nameof(HnswEf)} at least 1.";
        }

        if (TimeoutSeconds < 1)
        {
            yield return $"{nameof(TimeoutSeconds)} must be at least 1 (was {TimeoutSeconds}).";
        }

        if (MaxAttempts is < 1 or > 20)
        {
            yield return $"{nameof(MaxAttempts)} must be between 1 and 20 (was {MaxAttempts}).";
        }

        if (RetryBaseDelayMilliseconds < 0)
        {
            yield return $"{nameof(RetryBaseDelayMilliseconds)} must not be negative (was {RetryBaseDelayMilliseconds}).";
        }
    }
}
