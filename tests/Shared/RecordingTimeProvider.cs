namespace RagPlatform.Tests.Shared;

/// <summary>
/// A clock whose timers fire at once and remember how long they were asked to wait: a retry test sees every back-off
/// and Retry-After wait of the policy without sleeping through it.
/// </summary>
public sealed class RecordingTimeProvider : TimeProvider
{
    private readonly List<TimeSpan> _waits = [];

    /// <summary>The waits asked for, in order.</summary>
    public IReadOnlyList<TimeSpan> Waits
    {
        get
        {
            lock (_waits)
            {
                return [.. _waits];
            }
        }
    }

    public void Clear()
    {
        lock (_waits)
        {
            _waits.Clear();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            return System.CreateTimer(callback, state, dueTime, period);
        }

        lock (_waits)
        {
            _waits.Add(dueTime);
        }

        return System.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}
