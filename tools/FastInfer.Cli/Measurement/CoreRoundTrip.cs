using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FastInfer.Cli.Measurement;

/// <summary>
/// Measures how long a cache line takes to go from one core to another and back: two threads take turns bumping one
/// counter (each spins until it sees the other's value). On a shared virtual machine this moves with where the host
/// puts the virtual CPUs — 77-110 ns when they were close and 440-520 ns when far apart on the development host, changing
/// within seconds — and multi-thread latency moves with it (ResNet-18 at 2 threads: 11 ms close, 14.5 ms far; ONNX
/// Runtime ~11 ms both), so a bench report carries it, before and after its runs.
/// </summary>
public static class CoreRoundTrip
{
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private sealed class Line
    {
        [FieldOffset(64)] public int Value;
    }

    /// <summary>Median nanoseconds per round trip over a few batches; null with one core or when the partner thread never ran.</summary>
    public static double? MeasureNanoseconds(int roundTrips = 20_000, int batches = 5)
    {
        if (Environment.ProcessorCount < 2) return null;
        var line = new Line();
        var times = new List<double>();
        int total = roundTrips * batches;
        bool abandoned = false;
        var partner = new Thread(() =>
        {
            for (int i = 0; i < total && !Volatile.Read(ref abandoned); i++)
            {
                while (Volatile.Read(ref line.Value) != 2 * i + 1) if (Volatile.Read(ref abandoned)) return;
                Volatile.Write(ref line.Value, 2 * i + 2);
            }
        }) { IsBackground = true, Name = "FastInfer round-trip probe" };
        partner.Start();
        long deadline = Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency; // a partner the OS does not run gives up the probe
        for (int b = 0; b < batches; b++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int k = 0; k < roundTrips; k++)
            {
                int i = b * roundTrips + k;
                Volatile.Write(ref line.Value, 2 * i + 1);
                while (Volatile.Read(ref line.Value) != 2 * i + 2)
                    if (Stopwatch.GetTimestamp() > deadline) { Volatile.Write(ref abandoned, true); return null; }
            }
            times.Add(Stopwatch.GetElapsedTime(t0).TotalNanoseconds / roundTrips);
        }
        partner.Join();
        times.Sort();
        return times[times.Count / 2];
    }
}
