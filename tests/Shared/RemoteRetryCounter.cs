using System.Diagnostics.Metrics;

namespace RagPlatform.Tests.Shared;

/// <summary>
/// Listens to the one retry policy's meter (RagPlatform.Sdk.Remote.RemoteRetry, <c>ragplatform.remote.retries</c>) and
/// counts the retries per call site: a call site's test proves its retries go through that policy.
/// </summary>
public sealed class RemoteRetryCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public RemoteRetryCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "RagPlatform.Remote" && instrument.Name == "ragplatform.remote.retries")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "service" && tag.Value is string service)
                {
                    lock (_counts)
                    {
                        _counts[service] = _counts.GetValueOrDefault(service) + (int)value;
                    }
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Retries counted for <paramref name="service"/> since this counter started (other tests running at the same time may add to it).</summary>
    public int Of(string service)
    {
        lock (_counts)
        {
            return _counts.GetValueOrDefault(service);
        }
    }

    public void Dispose() => _listener.Dispose();
}
