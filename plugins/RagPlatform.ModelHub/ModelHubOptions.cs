using Microsoft.Extensions.Configuration;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.ModelHub;

/// <summary>
/// Where models come from. Bound from configuration (suggested section <see cref="SectionName"/>); unset keys fall
/// back to the Hugging Face environment variables (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE) so a machine set up for
/// the Hugging Face tools works as is.
/// </summary>
public sealed class ModelHubOptions
{
    public const string SectionName = "RagPlatform:ModelHub";

    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Where downloaded models are kept. Default: $XDG_CACHE_HOME (or ~/.cache)/ragplatform/models.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>The hub or a mirror (HF_ENDPOINT-style): files are fetched from {Endpoint}/{repo}/resolve/{revision}/{file}.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Access token for gated or private models, sent as "Authorization: Bearer …". Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>Never touch the network: only local folders and what the cache already holds.</summary>
    public bool Offline { get; set; }

    /// <summary>Attempts per file (the first one included) before giving up on 429, 5xx or network errors.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The longest wait between attempts; a 429 whose Retry-After asks for more fails at once, clearly.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First backoff delay when the server gives no Retry-After (doubles each attempt).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>These settings as the one retry policy's (<see cref="RemoteRetry"/>).</summary>
    public RemoteRetryOptions ToRetryOptions() => new()
    {
        MaxAttempts = MaxAttempts,
        BaseDelay = RetryBaseDelay,
        MaxDelay = MaxRetryDelay < RetryBaseDelay ? RetryBaseDelay : MaxRetryDelay,
    };

    /// <summary>How long one request may wait for response headers, or for the next bytes of a body.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>The whole resolve (all files, all attempts) must finish within this.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Also look in the Hugging Face tools' own cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub).</summary>
    public bool UseHuggingFaceCache { get; set; } = true;

    /// <summary>Binds a configuration section, then fills what it leaves unset from the HF_* environment variables.</summary>
    public static ModelHubOptions FromConfiguration(IConfiguration? section, Func<string, string?>? environment = null)
    {
        var options = new ModelHubOptions();
        section?.Bind(options);
        return options.WithEnvironmentDefaults(environment);
    }

    /// <summary>Fills unset values from HF_ENDPOINT, HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) and HF_HUB_OFFLINE.</summary>
    public ModelHubOptions WithEnvironmentDefaults(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        Endpoint ??= NullIfEmpty(environment("HF_ENDPOINT"));
        Token ??= NullIfEmpty(environment("HF_TOKEN")) ?? NullIfEmpty(environment("HUGGING_FACE_HUB_TOKEN"));
        if (!Offline && environment("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "True" or "yes" or "on")
        {
            Offline = true;
        }

        return this;
    }

    public string ResolveCacheDirectory()
    {
        if (!string.IsNullOrWhiteSpace(CacheDirectory))
        {
            return Path.GetFullPath(CacheDirectory);
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string baseDirectory = !string.IsNullOrEmpty(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDirectory, "ragplatform", "models");
    }

    public Uri ResolveEndpoint()
    {
        string endpoint = string.IsNullOrWhiteSpace(Endpoint) ? DefaultEndpoint : Endpoint.Trim();
        if (!Uri.TryCreate(endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ModelUnavailableException($"ModelHub Endpoint '{endpoint}' is not an http(s) URL (set {SectionName}:Endpoint or HF_ENDPOINT).");
        }

        return uri;
    }

    internal static string? HuggingFaceCacheDirectory()
    {
        string? hubCache = Environment.GetEnvironmentVariable("HF_HUB_CACHE");
        if (!string.IsNullOrEmpty(hubCache))
        {
            return hubCache;
        }

        string? home = Environment.GetEnvironmentVariable("HF_HOME");
        return !string.IsNullOrEmpty(home)
            ? Path.Combine(home, "hub")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub");
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
