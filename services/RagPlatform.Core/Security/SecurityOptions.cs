using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RagPlatform.Core.Security;

/// <summary>
/// <c>RagPlatform:Security</c>: who may call the services and how much. With no keys configured the
/// services serve loopback clients only (and say so at start-up); any other client, and any non-loopback
/// binding, needs keys.
/// </summary>
public sealed class SecurityOptions
{
    public const string SectionName = "RagPlatform:Security";

    /// <summary>The accepted API keys, by their hashes (never the keys themselves). <c>rag keys create</c> makes entries.</summary>
    [ValidateEnumeratedItems]
    public List<ApiKeyOptions> Keys { get; set; } = [];

    [ValidateObjectMembers]
    public RateLimitOptions RateLimits { get; set; } = new();
}

/// <summary>Validates <see cref="SecurityOptions"/> at start, each key and the rate limits included (generated at compile time).</summary>
[OptionsValidator]
public sealed partial class SecurityOptionsValidator : IValidateOptions<SecurityOptions>;

/// <summary>One API key. A client rotates without downtime by holding two entries (old and new) until the old is revoked.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The key's public id: the part between <c>rag_</c> and the secret, safe to log.</summary>
    [Required]
    public string Id { get; set; } = "";

    /// <summary>Who holds the key (for logs, metrics and rate limits: a client's two keys share its limits).</summary>
    public string? Client { get; set; }

    /// <summary><c>sha256:&lt;hex&gt;</c> of the whole key.</summary>
    [Required]
    public string Hash { get; set; } = "";

    /// <summary><c>ingest</c>, <c>query</c>, <c>admin</c> (admin implies the others).</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>When set, the only collections the key can see or touch.</summary>
    public List<string>? Collections { get; set; }

    public bool Revoked { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
}

public sealed class RateLimitOptions
{
    /// <summary>Requests per client per window (0 = unlimited).</summary>
    [Range(0, int.MaxValue)]
    public int RequestsPerWindow { get; set; } = 6_000;

    /// <summary>Bytes of documents a client may post per window (0 = unlimited).</summary>
    [Range(0, int.MaxValue)]
    public int IngestBytesPerWindow { get; set; } = 512 * 1024 * 1024;

    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>Embedding requests served at once by <c>POST /v1/embeddings</c>; more wait in the queue.</summary>
    [Range(1, 10_000)]
    public int EmbeddingConcurrency { get; set; } = 8;

    /// <summary>Embedding requests that may wait; beyond it they are shed with 429.</summary>
    [Range(0, 100_000)]
    public int EmbeddingQueue { get; set; } = 64;
}
