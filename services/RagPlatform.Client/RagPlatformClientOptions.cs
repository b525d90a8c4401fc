namespace RagPlatform.Client;

/// <summary>Where the server is and how to call it. Bound by <see cref="RagPlatformClientExtensions.AddRagPlatformClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{RagPlatformClientOptions})"/>.</summary>
public sealed class RagPlatformClientOptions
{
    /// <summary>The configuration section <c>AddRagPlatformClient(configuration)</c> reads.</summary>
    public const string SectionName = "RagPlatform:Client";

    /// <summary>The server root, e.g. <c>http://127.0.0.1:5080</c> (a path prefix behind a reverse proxy is kept).</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>An API key (<c>rag keys create</c>), sent as <c>Authorization: Bearer</c>; none for a keyless loopback server.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The whole of one call, retries included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Retries of a throttled (429) or unavailable (503) answer, and of a 408, 5xx or transport failure of a call that may be repeated (RagPlatform.Sdk.Remote.RemoteRetry decides).</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The first back-off when the server sends no Retry-After (exponential with jitter after it).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between two tries, whatever Retry-After asks for.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    internal IEnumerable<string> Validate()
    {
        if (BaseAddress is null || !BaseAddress.IsAbsoluteUri)
        {
            yield return "BaseAddress must be an absolute URI such as http://127.0.0.1:5080.";
        }

        if (MaxRetries is < 0 or > 20)
        {
            yield return "MaxRetries is between 0 and 20.";
        }

        if (Timeout <= TimeSpan.Zero)
        {
            yield return "Timeout must be positive.";
        }

        if (RetryDelay < TimeSpan.Zero || MaxRetryDelay < RetryDelay)
        {
            yield return "RetryDelay must not be negative nor above MaxRetryDelay.";
        }
    }
}
