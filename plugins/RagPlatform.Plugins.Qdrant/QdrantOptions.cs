using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.Qdrant;

/// <summary>Settings of the Qdrant backend (section <c>RagPlatform:VectorStore:Backends:qdrant</c>).</summary>
public sealed class QdrantOptions : IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="QdrantOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    /// <summary>Qdrant's default limit on a request (service.max_request_size_mb = 32), which applies to gRPC too.</summary>
    public const long QdrantDefaultRequestLimitBytes = 32L * 1024 * 1024;

    /// <summary>
    /// Name of the Aspire resource: the gRPC address and API key come from <c>ConnectionStrings:&lt;name&gt;</c>
    /// (<c>Endpoint=http://host:6334;Key=…</c>, as Aspire injects it for a Qdrant resource).
    /// </summary>
    public string ConnectionName { get; set; } = "qdrant";

    /// <summary>Name of every collection's dense vector.</summary>
    public string DenseVectorName { get; set; } = "dense";

    /// <summary>Name of every collection's sparse (BM25 term weight) vector, which has Qdrant's IDF modifier.</summary>
    public string SparseVectorName { get; set; } = "bm25";

    /// <summary>
    /// The alias that follows the active version of each platform collection (<c>&lt;name&gt;&lt;suffix&gt;</c>, moved
    /// atomically at a blue/green switch) for readers outside the platform; empty: no alias.
    /// </summary>
    public string ActiveAliasSuffix { get; set; } = "_active";

    /// <summary>Upserts are split so no request exceeds this many bytes (keep it under the server's max_request_size_mb).</summary>
    public long MaxRequestBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Upserts are also split past this many points per request.</summary>
    public int MaxBatchPoints { get; set; } = 256;

    /// <summary>Points per scroll page when exporting.</summary>
    public int ScrollPageSize { get; set; } = 256;

    /// <summary>HNSW graph degree (m) of new collections.</summary>
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW build breadth (ef_construct) of new collections.</summary>
    public int HnswEfConstruct { get; set; } = 100;

    /// <summary>HNSW search breadth (hnsw_ef) of queries; raised to k when smaller.</summary>
    public int HnswEf { get; set; } = 128;

    /// <summary>True: every dense query is an exact scan (params.exact), e.g. for evaluation.</summary>
    public bool ExactSearch { get; set; }

    /// <summary>Keep payloads (chunk text) on disk rather than in RAM (on_disk_payload).</summary>
    public bool OnDiskPayload { get; set; } = true;

    /// <summary>
    /// BM25 needs the collection's average chunk length (in terms) when a chunk's term weights are written. It is
    /// estimated from the chunks written, kept in the collection's metadata, and stops moving after this many chunks
    /// (a chunk's weights are written once, with the estimate of that moment).
    /// </summary>
    public int AverageLengthSampleChunks { get; set; } = 20_000;

    /// <summary>Deadline of each call.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Attempts per call, the first included (gRPC UNAVAILABLE and RESOURCE_EXHAUSTED are retried by the one
    /// retry policy, <see cref="RemoteRetry"/>, with exponential backoff from <see cref="RetryBaseDelayMilliseconds"/>).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>First backoff delay; it doubles per retry (with jitter), up to 8 s.</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 250;

    /// <summary>These settings as the one retry policy's (<see cref="RemoteRetry"/>).</summary>
    public RemoteRetryOptions ToRetryOptions() => new()
    {
        MaxAttempts = MaxAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(RetryBaseDelayMilliseconds),
        MaxDelay = TimeSpan.FromSeconds(8),
    };

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionName))
        {
            yield return $"{nameof(ConnectionName)} must name the connection string (ConnectionStrings:<name>).";
        }

        if (string.IsNullOrWhiteSpace(DenseVectorName) || string.IsNullOrWhiteSpace(SparseVectorName) || DenseVectorName == SparseVectorName)
        {
            yield return $"{nameof(DenseVectorName)} and {nameof(SparseVectorName)} must be two different names.";
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

        if (AverageLengthSampleChunks < 1)
        {
            yield return $"{nameof(AverageLengthSampleChunks)} must be at least 1 (was {AverageLengthSampleChunks}).";
        }

        if (TimeoutSeconds < 1)
        {
            yield return $"{nameof(TimeoutSeconds)} must be at least 1 (was {TimeoutSeconds}).";
        }

        if (MaxAttempts is < 1 or > 20)
        {
            yield return $"{nameof(MaxAttempts)} must be between 1 and 20 (was {MaxAttempts}).";
        }

        if (RetryBaseDelayMilliseconds is < 1 or > 8000)
        {
            yield return $"{nameof(RetryBaseDelayMilliseconds)} must be between 1 and 8000 (was {RetryBaseDelayMilliseconds}).";
        }
    }
}

/// <summary>Validates <see cref="QdrantOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class QdrantOptionsValidator : IValidateOptions<QdrantOptions>;
