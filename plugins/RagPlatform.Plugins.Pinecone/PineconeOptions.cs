using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;
using System.Text.RegularExpressions;

namespace RagPlatform.Plugins.Pinecone;

/// <summary>Settings of the Pinecone backend (section <c>RagPlatform:VectorStore:Backends:pinecone</c>).</summary>
public sealed partial class PineconeOptions : IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="PineconeOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    /// <summary>Pinecone's documented upsert limits: 1,000 records and 2 MB per request, 40 KB of metadata per record.</summary>
    public const int PineconeMaxBatchRecords = 1000;
    public const long PineconeMaxRequestBytes = 2L * 1024 * 1024;
    public const int PineconeMaxMetadataBytes = 40 * 1024;

    /// <summary>
    /// Name of the connection string: <c>ConnectionStrings:&lt;name&gt;</c> =
    /// <c>Endpoint=https://api.pinecone.io;Key=pcsk_…</c> (the control plane and the API key).
    /// </summary>
    public string ConnectionName { get; set; } = "pinecone";

    /// <summary>Value of the <c>X-Pinecone-API-Version</c> header every request carries.</summary>
    public string ApiVersion { get; set; } = "2025-10";

    /// <summary>Cloud of new serverless indexes (aws, gcp, azure).</summary>
    public string Cloud { get; set; } = "aws";

    /// <summary>Region of new serverless indexes.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>
    /// Indexes are named <c>&lt;prefix&gt;-&lt;metric&gt;-&lt;dimensions&gt;</c> (e.g. rag-cosine-1536); every collection
    /// of that shape is a namespace in it.
    /// </summary>
    public string IndexNamePrefix { get; set; } = "rag";

    /// <summary>Scheme of index hosts (Pinecone's are https; only contract tests use http).</summary>
    public string IndexHostScheme { get; set; } = "https";

    /// <summary>Turn on Pinecone's deletion protection for indexes this backend creates.</summary>
    public bool DeletionProtection { get; set; }

    /// <summary>Records per upsert request (Pinecone allows at most 1,000).</summary>
    public int MaxBatchRecords { get; set; } = PineconeMaxBatchRecords;

    /// <summary>Bytes per upsert request body (Pinecone allows at most 2 MB).</summary>
    public long MaxRequestBytes { get; set; } = 2_000_000;

    /// <summary>Metadata bytes per record (Pinecone allows at most 40 KB); larger chunks are refused before anything is written.</summary>
    public int MaxMetadataBytes { get; set; } = PineconeMaxMetadataBytes;

    /// <summary>Ids per list page when exporting or counting with a filter (Pinecone's default and maximum is 100).</summary>
    public int ListPageSize { get; set; } = 100;

    /// <summary>Ids per fetch request (they travel in the URL).</summary>
    public int FetchBatchSize { get; set; } = 100;

    /// <summary>How long EnsureCollection waits for a new index to become ready.</summary>
    public int IndexReadyTimeoutSeconds { get; set; } = 300;

    /// <summary>Pause between readiness checks of a new index.</summary>
    public int IndexReadyPollMilliseconds { get; set; } = 2000;

    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Attempts per request, the first included (429, 5xx, timeouts and connection failures are retried).</summary>
    public int MaxAttempts { get; set; } = 5;

    public int RetryBaseDelayMilliseconds { get; set; } = 250;

    /// <summary>These settings as the one retry policy's (<see cref="RemoteRetry"/>); waits, Retry-After included, stop at 30 s.</summary>
    public RemoteRetryOptions ToRetryOptions() => new()
    {
        MaxAttempts = MaxAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(RetryBaseDelayMilliseconds),
        MaxDelay = TimeSpan.FromSeconds(30),
    };

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionName))
        {
            yield return $"{nameof(ConnectionName)} must name the connection string (ConnectionStrings:<name>).";
        }

        if (string.IsNullOrWhiteSpace(ApiVersion))
        {
            yield return $"{nameof(ApiVersion)} must be a Pinecone API version such as 2025-10.";
        }

        if (string.IsNullOrWhiteSpace(Cloud) || string.IsNullOrWhiteSpace(Region))
        {
            yield return $"{nameof(Cloud)} and {nameof(Region)} must name where serverless indexes live (e.g. aws / us-east-1).";
        }

        if (!IndexPrefixPattern().IsMatch(IndexNamePrefix ?? string.Empty))
        {
            yield return $"{nameof(IndexNamePrefix)} must be 1-20 lowercase letters, digits or '-', starting with a letter (was '{IndexNamePrefix}').";
        }

        if (IndexHostScheme is not ("https" or "http"))
        {
            yield return $"{nameof(IndexHostScheme)} must be https (or http for a local emulator).";
        }

        if (MaxBatchRecords is < 1 or > PineconeMaxBatchRecords)
        {
            yield return $"{nameof(MaxBatchRecords)} must be between 1 and {PineconeMaxBatchRecords} (was {MaxBatchRecords}).";
        }

        if (MaxRequestBytes is < 64 * 1024 or > PineconeMaxRequestBytes)
        {
            yield return $"{nameof(MaxRequestBytes)} must be between 65536 and {PineconeMaxRequestBytes} (was {MaxRequestBytes}).";
        }

        if (MaxMetadataBytes is < 1024 or > PineconeMaxMetadataBytes)
        {
            yield return $"{nameof(MaxMetadataBytes)} must be between 1024 and {PineconeMaxMetadataBytes} (was {MaxMetadataBytes}).";
        }

        if (ListPageSize is < 1 or > 100 || FetchBatchSize is < 1 or > 1000)
        {
            yield return $"{nameof(ListPageSize)} must be 1-100 and {nameof(FetchBatchSize)} 1-1000.";
        }

        if (IndexReadyTimeoutSeconds < 1 || IndexReadyPollMilliseconds < 0)
        {
            yield return $"{nameof(IndexReadyTimeoutSeconds)} must be at least 1 and {nameof(IndexReadyPollMilliseconds)} not negative.";
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

    [GeneratedRegex("^[a-z][a-z0-9-]{0,19}$")]
    private static partial Regex IndexPrefixPattern();
}

/// <summary>Validates <see cref="PineconeOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class PineconeOptionsValidator : IValidateOptions<PineconeOptions>;
