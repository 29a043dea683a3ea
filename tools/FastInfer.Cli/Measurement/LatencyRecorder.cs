using System.Diagnostics;
using FastInfer.Cli.Output;

namespace FastInfer.Cli.Measurement;

/// <summary>Latency samples in a preallocated array (recording allocates nothing), summarized as min/percentiles/mean.</summary>
public sealed class LatencyRecorder(int capacity)
{
    private readonly double[] _ms = new double[Math.Max(1, capacity)];
    public int Count { get; private set; }

    public void Add(long startTimestamp, long endTimestamp)
    {
        if (Count < _ms.Length) _ms[Count++] = (endTimestamp - startTimestamp) * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>Nearest-rank percentile of the recorded samples.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        int rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public LatencyStats Summarize(int itemsPerRun)
    {
        var sorted = _ms.AsSpan(0, Count).ToArray();
        Array.Sort(sorted);
        double mean = sorted.Length == 0 ? double.NaN : sorted.Average();
        return new LatencyStats
        {
            MinMs = sorted.Length == 0 ? double.NaN : sorted[0],
            MaxMs = sorted.Length == 0 ? double.NaN : sorted[^1],
            P50Ms = Percentile(sorted, 50), P90Ms = Percentile(sorted, 90), P99Ms = Percentile(sorted, 99),
            MeanMs = mean, ThroughputPerS = itemsPerRun * 1000.0 / mean,
        };
    }
}
