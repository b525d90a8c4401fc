using System.ComponentModel.DataAnnotations;

namespace RagPlatform.Sdk.Remote;

/// <summary>
/// How every remote call of RagPlatform is retried (<see cref="RemoteRetry"/>): how many attempts, how long the
/// back-off, and the longest wait between two attempts. Each call site fills one of these from its own configuration
/// section (Pinecone's MaxAttempts, the model hub's MaxRetryDelay, the client's MaxRetries...) so settings keep their
/// documented names, but what they mean and how they are applied is decided here, once.
/// </summary>
public sealed class RemoteRetryOptions
{
    /// <summary>Attempts per call, the first included; 1 turns retries off.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The first back-off when the service sends no Retry-After; it doubles per attempt, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between two attempts: the back-off stops growing there and a Retry-After that asks for
    /// more is waited only this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>What is wrong with these settings, one sentence per problem, naming the property.</summary>
    public IEnumerable<string> Validate()
    {
        if (MaxAttempts is < 1 or > 100)
        {
            yield return $"{nameof(MaxAttempts)} must be between 1 and 100 (was {MaxAttempts}).";
        }

        if (BaseDelay < TimeSpan.Zero)
        {
            yield return $"{nameof(BaseDelay)} must not be negative (was {BaseDelay}).";
        }

        if (MaxDelay < BaseDelay)
        {
            yield return $"{nameof(MaxDelay)} must not be below {nameof(BaseDelay)} (was {MaxDelay} < {BaseDelay}).";
        }
    }
}
