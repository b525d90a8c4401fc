using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A small Prometheus text exposition over <see cref="MeterListener"/> (no Prometheus exporter package is
/// available to us). Counters are summed, up-down counters and gauges keep their value, histograms keep
/// count, sum and fixed buckets; one series per distinct tag set.
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    private static readonly string[] MeterPrefixes = ["RagPlatform", "MassTransit", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<string, Series>> _series = new();

    public PrometheusMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (MeterPrefixes.Any(p => instrument.Meter.Name.StartsWith(p, StringComparison.Ordinal)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var (instrument, series) in _series.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
        {
            var name = Sanitize(instrument.Name) + UnitSuffix(instrument);
            var isHistogram = instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal);
            var isCounter = instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal)
                || instrument.GetType().Name.StartsWith("ObservableCounter", StringComparison.Ordinal);
            if (isCounter && !name.EndsWith("_total", StringComparison.Ordinal))
            {
                name += "_total";
            }

            if (!string.IsNullOrEmpty(instrument.Description))
            {
                text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description.Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            }

            text.Append("# TYPE ").Append(name).Append(isHistogram ? " histogram" : isCounter ? " counter" : " gauge").Append('\n');
            foreach (var (labels, value) in series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                lock (value)
                {
                    if (isHistogram)
                    {
                        for (var b = 0; b < Buckets.Length; b++)
                        {
                            AppendSeries(text, name + "_bucket", Join(labels, "le=\"" + Format(Buckets[b]) + "\""), value.BucketCounts[b]);
                        }

                        AppendSeries(text, name + "_bucket", Join(labels, "le=\"+Inf\""), value.Count);
                        AppendSeries(text, name + "_sum", labels, value.Sum);
                        AppendSeries(text, name + "_count", labels, value.Count);
                    }
                    else
                    {
                        AppendSeries(text, name, labels, value.Sum);
                    }
                }
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        var series = _series.GetOrAdd(instrument, _ => new ConcurrentDictionary<string, Series>(StringComparer.Ordinal))
            .GetOrAdd(labels, _ => new Series(Buckets.Length));
        var type = instrument.GetType().Name;
        lock (series)
        {
            if (type.StartsWith("Histogram", StringComparison.Ordinal))
            {
                series.Count++;
                series.Sum += value;
                for (var b = 0; b < Buckets.Length; b++)
                {
                    if (value <= Buckets[b])
                    {
                        series.BucketCounts[b]++;
                    }
                }
            }
            else if (type.StartsWith("Observable", StringComparison.Ordinal) || type.StartsWith("Gauge", StringComparison.Ordinal))
            {
                series.Sum = value;
            }
            else
            {
                series.Sum += value;
            }
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<string>(tags.Length);
        foreach (var tag in tags)
        {
            var value = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty;
            pairs.Add(Sanitize(tag.Key) + "=\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

    private static void AppendSeries(StringBuilder text, string name, string labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(Format(value)).Append('\n');
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string UnitSuffix(Instrument instrument) => instrument.Unit switch
    {
        "s" => "_seconds",
        "ms" => "_milliseconds",
        "By" => "_bytes",
        _ => string.Empty,
    };

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return builder.ToString();
    }

    private sealed class Series(int buckets)
    {
        public long[] BucketCounts { get; } = new long[buckets];

        public long Count { get; set; }

        public double Sum { get; set; }
    }
}
