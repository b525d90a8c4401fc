namespace RagPlatform.Core.Errors;

/// <summary>Request input is invalid. Each entry names the field (JSON path) and what is wrong with it.</summary>
public sealed class RequestValidationException(IDictionary<string, string[]> errors)
    : Exception("One or more fields are invalid: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")))
{
    public RequestValidationException(string field, string error)
        : this(new Dictionary<string, string[]> { [field] = [error] })
    {
    }

    public IDictionary<string, string[]> Errors { get; } = errors;
}

public sealed class ResourceNotFoundException(string message) : Exception(message);

/// <summary>The request conflicts with the resource's state (e.g. changing a collection's model in place).</summary>
public sealed class ResourceConflictException(string message) : Exception(message);

/// <summary>The caller is over one of its limits; it may retry after <see cref="RetryAfter"/>.</summary>
public sealed class RateLimitedException(TimeSpan retryAfter, string message) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>An embedding provider or vector backend misbehaved (wrong dimensions, unreachable).</summary>
public sealed class UpstreamPluginException(string message, Exception? inner = null) : Exception(message, inner);
