using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;
using RagPlatform.Sdk.Remote;

namespace RagPlatform.Plugins.OpenAI;

/// <summary>How the provider counts tokens before it sends: for batching, the per-input limit and chunking.</summary>
public enum TokenCounting
{
    /// <summary>A conservative estimate without a vocabulary (see <see cref="TokenEstimator"/>). Errs high for
    /// OpenAI's cl100k vocabulary on Korean and English, but is not a proof.</summary>
    Estimate,

    /// <summary>The UTF-8 byte count: a hard upper bound for every byte-level BPE vocabulary (each token covers
    /// at least one byte), at the price of smaller batches and chunks (a Hangul syllable counts 3).</summary>
    Utf8Bytes,
}

/// <summary>Settings of the "openai" provider (<c>RagPlatform:Embedding:Providers:openai</c>).</summary>
public sealed class OpenAIEmbedderOptions : IValidatableObject
{
    /// <summary>The checks of <see cref="Validate()"/>, for the generated <see cref="OpenAIEmbedderOptionsValidator"/>.</summary>
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) =>
        SettingsValidation.AsValidationResults(Validate(), validationContext);

    public const string DefaultEndpoint = "https://api.openai.com/v1";

    /// <summary>The model the server is asked for (<c>model</c> in the request).</summary>
    public string Model { get; set; } = "text-embedding-3-small";

    /// <summary>Base URL of the OpenAI API or of any OpenAI-compatible server (TEI, vLLM, Ollama, a RagPlatform
    /// embedding worker): requests go to <c>{Endpoint}/embeddings</c>.</summary>
    public string Endpoint { get; set; } = DefaultEndpoint;

    /// <summary>API keys used round-robin. Put them in user secrets or environment variables
    /// (<c>RagPlatform__Embedding__Providers__openai__ApiKeys__0</c>), never in appsettings.json.
    /// A server without authentication needs none.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Vector length. Known OpenAI models default to their native size; text-embedding-3-* accept a
    /// smaller value (sent as <c>dimensions</c>). Required for any other model. Part of the fingerprint.</summary>
    public int? Dimensions { get; set; }

    /// <summary>The model name written into the fingerprint, when the server's name for it differs from the
    /// model's own (an Azure deployment or gateway alias of text-embedding-3-small). Default: <see cref="Model"/>.</summary>
    public string? FingerprintModel { get; set; }

    /// <summary>Bump when the served weights change under the same name. Part of the fingerprint.</summary>
    public string Revision { get; set; } = "1";

    /// <summary><c>l2</c> (default; vectors are normalised to unit length on arrival, as OpenAI's already are)
    /// or <c>none</c> (vectors kept as served). Part of the fingerprint.</summary>
    public string Normalization { get; set; } = "l2";

    /// <summary>Most inputs in one request (OpenAI: 2048).</summary>
    public int MaxInputsPerRequest { get; set; } = 2048;

    /// <summary>Most tokens, as counted by <see cref="TokenCounting"/>, in one request (OpenAI: 300,000).</summary>
    public int MaxTokensPerRequest { get; set; } = 300_000;

    /// <summary>Most tokens in one input (OpenAI: 8191). Longer inputs fail on their own, without a request.</summary>
    public int MaxTokensPerInput { get; set; } = 8191;

    public TokenCounting TokenCounting { get; set; } = TokenCounting.Estimate;

    /// <summary>Requests in flight at once, over all keys.</summary>
    public int MaxConcurrentRequests { get; set; } = 4;

    /// <summary>One attempt's time limit; a stalled server counts as a retryable failure after it.</summary>
    public double RequestTimeoutSeconds { get; set; } = 60;

    /// <summary>Attempts of one request (the first included) before the call fails.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Time one request may spend in attempts, waits and backoff before the call fails.</summary>
    public double MaxRetrySeconds { get; set; } = 120;

    /// <summary>First backoff; it doubles per attempt up to <see cref="MaxBackoffSeconds"/>, with full jitter.</summary>
    public double InitialBackoffSeconds { get; set; } = 0.5;

    public double MaxBackoffSeconds { get; set; } = 20;

    /// <summary>These settings as the one retry policy's (<see cref="RemoteRetry"/>): MaxAttempts, and the back-off
    /// from InitialBackoffSeconds up to MaxBackoffSeconds (a 5xx's Retry-After is waited up to MaxBackoffSeconds too).</summary>
    public RemoteRetryOptions ToRetryOptions() => new()
    {
        MaxAttempts = MaxAttempts,
        BaseDelay = TimeSpan.FromSeconds(InitialBackoffSeconds),
        MaxDelay = TimeSpan.FromSeconds(MaxBackoffSeconds),
    };

    /// <summary>Cool-down of a key after a 429 that carries no Retry-After.</summary>
    public double DefaultRetryAfterSeconds { get; set; } = 5;

    /// <summary>The problems with these settings, one message per bad setting; empty when valid. Never
    /// includes a key's value.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Model))
        {
            yield return "Model is required.";
        }

        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            yield return "Endpoint must be an absolute http(s) URL.";
        }
        else if (ApiKeys.Count == 0 && IsOpenAI(endpoint))
        {
            yield return "ApiKeys must hold at least one key for api.openai.com (set RagPlatform__Embedding__Providers__openai__ApiKeys__0).";
        }

        for (var i = 0; i < ApiKeys.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(ApiKeys[i]))
            {
                yield return $"ApiKeys[{i}] is empty.";
            }
        }

        if (ApiKeys.Distinct(StringComparer.Ordinal).Count() != ApiKeys.Count)
        {
            yield return "ApiKeys lists the same key twice.";
        }

        var known = KnownModels.Find(Model);
        if (Dimensions is null && known is null)
        {
            yield return $"Dimensions is required for model '{Model}' (known models: {string.Join(", ", KnownModels.Names)}).";
        }
        else if (Dimensions is { } d)
        {
            if (d < 1 || d > 65536)
            {
                yield return $"Dimensions must be between 1 and 65536 (was {d}).";
            }
            else if (known is not null && (d > known.NativeDimensions || (!known.AcceptsDimensions && d != known.NativeDimensions)))
            {
                yield return known.AcceptsDimensions
                    ? $"Dimensions for {known.Name} must be at most {known.NativeDimensions} (was {d})."
                    : $"{known.Name} always returns {known.NativeDimensions} dimensions (was {d}).";
            }
        }

        if (Normalization is not ("l2" or "none"))
        {
            yield return $"Normalization must be 'l2' or 'none' (was '{Normalization}').";
        }

        if (string.IsNullOrWhiteSpace(Revision) || Revision.Contains(';', StringComparison.Ordinal) || Revision.Contains('@', StringComparison.Ordinal))
        {
            yield return "Revision must be a non-empty text without ';' or '@'.";
        }

        if ((FingerprintModel ?? Model).Contains(';', StringComparison.Ordinal) || (FingerprintModel ?? Model).Contains('@', StringComparison.Ordinal))
        {
            yield return "The fingerprint model name must not contain ';' or '@' (set FingerprintModel).";
        }

        if (MaxInputsPerRequest < 1)
        {
            yield return $"MaxInputsPerRequest must be positive (was {MaxInputsPerRequest}).";
        }

        if (MaxTokensPerInput < 1)
        {
            yield return $"MaxTokensPerInput must be positive (was {MaxTokensPerInput}).";
        }

        if (MaxTokensPerRequest < MaxTokensPerInput)
        {
            yield return $"MaxTokensPerRequest ({MaxTokensPerRequest}) must be at least MaxTokensPerInput ({MaxTokensPerInput}).";
        }

        if (MaxConcurrentRequests is < 1 or > 256)
        {
            yield return $"MaxConcurrentRequests must be between 1 and 256 (was {MaxConcurrentRequests}).";
        }

        if (MaxAttempts is < 1 or > 100)
        {
            yield return $"MaxAttempts must be between 1 and 100 (was {MaxAttempts}).";
        }

        if (!(RequestTimeoutSeconds > 0) || !(MaxRetrySeconds > 0) || !(InitialBackoffSeconds >= 0)
            || !(MaxBackoffSeconds >= InitialBackoffSeconds) || !(DefaultRetryAfterSeconds >= 0))
        {
            yield return "RequestTimeoutSeconds and MaxRetrySeconds must be positive, InitialBackoffSeconds and DefaultRetryAfterSeconds "
                + "not negative, MaxBackoffSeconds at least InitialBackoffSeconds.";
        }
    }

    internal static bool IsOpenAI(Uri endpoint) => endpoint.Host.Equals("api.openai.com", StringComparison.OrdinalIgnoreCase);
}

/// <summary>OpenAI's embedding models: native size and whether they accept the <c>dimensions</c> parameter.</summary>
internal sealed record KnownModel(string Name, int NativeDimensions, bool AcceptsDimensions);

internal static class KnownModels
{
    private static readonly KnownModel[] _all =
    [
        new("text-embedding-3-small", 1536, true),
        new("text-embedding-3-large", 3072, true),
        new("text-embedding-ada-002", 1536, false),
    ];

    public static IEnumerable<string> Names => _all.Select(m => m.Name);

    public static KnownModel? Find(string? model) =>
        _all.FirstOrDefault(m => string.Equals(m.Name, model, StringComparison.Ordinal));
}

/// <summary>Validates <see cref="OpenAIEmbedderOptions"/> (generated at compile time); the host runs it at start and on creation.</summary>
[OptionsValidator]
public sealed partial class OpenAIEmbedderOptionsValidator : IValidateOptions<OpenAIEmbedderOptions>;
