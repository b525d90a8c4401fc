using System.Globalization;
using System.Text.Json.Nodes;

namespace RagPlatform.Cli.Bench;

/// <summary>Latencies of one measured run, in milliseconds, summarised the same way by every bench command.</summary>
public sealed class LatencySample
{
    private readonly List<double> _milliseconds = [];

    public int Count
    {
        get
        {
            lock (_milliseconds)
            {
                return _milliseconds.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (_milliseconds)
        {
            _milliseconds.Add(milliseconds);
        }
    }

    /// <summary>Nearest-rank percentile (p in 0..1); NaN when nothing was measured.</summary>
    public double Percentile(double p)
    {
        lock (_milliseconds)
        {
            if (_milliseconds.Count == 0)
            {
                return double.NaN;
            }

            var sorted = _milliseconds.ToArray();
            Array.Sort(sorted);
            return NearestRank(sorted, p);
        }
    }

    /// <summary>Nearest-rank percentile (p in 0..1) of values already sorted ascending; the rule every bench reports by.</summary>
    public static double NearestRank(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public JsonObject Json() => new()
    {
        ["count"] = Count,
        ["p50Ms"] = Round(Percentile(0.50)),
        ["p99Ms"] = Round(Percentile(0.99)),
    };

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Count,5} requests  p50 {Percentile(0.50),7:0.00} ms  p99 {Percentile(0.99),7:0.00} ms");

    private static double? Round(double value) => double.IsNaN(value) ? null : Math.Round(value, 2);
}
