using System.ComponentModel.DataAnnotations;

namespace RagPlatform.Caching.Redis;

/// <summary><c>RagPlatform:Cache:Redis</c>. The connection itself comes from <c>ConnectionStrings:cache</c>.</summary>
public sealed class RedisCacheOptions
{
    public const string SectionName = "RagPlatform:Cache:Redis";

    /// <summary>Prefix of every key, so several platforms (or other apps) can share one Redis.</summary>
    [Required]
    public string KeyPrefix { get; set; } = "ragplatform:";

    /// <summary>Longest a cache read or write may take before it counts as a miss (and Redis is skipped for a while).</summary>
    [Range(10, 10_000)]
    public int OperationTimeoutMilliseconds { get; set; } = 250;

    /// <summary>Longest one connection attempt may take (it runs in the background, never in a request).</summary>
    [Range(100, 60_000)]
    public int ConnectTimeoutMilliseconds { get; set; } = 2_000;

    /// <summary>After a failed command, how long Redis is skipped before it is tried again.</summary>
    [Range(0, 3600)]
    public int BreakSeconds { get; set; } = 5;

    /// <summary>How long the in-process tier keeps a value (at most); 0 turns the tier off.</summary>
    [Range(0, 86_400)]
    public int MemoryTierSeconds { get; set; } = 30;
}

/// <summary>Validates <see cref="RedisCacheOptions"/> at start (generated at compile time).</summary>
[Microsoft.Extensions.Options.OptionsValidator]
public sealed partial class RedisCacheOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<RedisCacheOptions>;
