using System.Diagnostics;
using FastInfer.Kernels.Threading;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// <c>profile pool [threads]</c>: how well the worker pool shares a loop of equal compute-bound items — wall time
/// per loop against one thread's, and how many items ran off the calling thread. Tells pool overhead and
/// scheduling trouble apart from memory-bandwidth limits (the items touch no memory).
/// </summary>
public static class PoolProbe
{
    public static void Run(int threads, int reps)
    {
        using var pool = new WorkerPool(threads);
        foreach (int itemMicros in new[] { 2, 20, 200 })
        {
            foreach (int count in new[] { threads, 8 * threads, 256 })
            {
                var body = new SpinBody { Iterations = Calibrate(itemMicros), CallerThread = Environment.CurrentManagedThreadId };
                var times = new List<double>();
                var serialTimes = new List<double>();
                int offCaller = 0;
                for (int r = 0; r < reps + 3; r++)
                {
                    body.OffCaller = 0;
                    long t0 = Stopwatch.GetTimestamp();
                    WorkerPool.Serial.For(count, ref body);
                    if (r >= 3) serialTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                    t0 = Stopwatch.GetTimestamp();
                    pool.For(count, ref body);
                    if (r >= 3) { times.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds); offCaller += body.OffCaller; }
                }
                double p50 = Median(times), serial = Median(serialTimes);
                Console.WriteLine($"pool t={threads} items={count,3} x {itemMicros,3} µs: p50 {p50,9:F1} µs " +
                    $"(serial {serial,8:F1} µs, speed-up {serial / p50:F2}), off-caller items {100.0 * offCaller / (count * reps):F0}%");
            }
        }
    }

    private static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

    private static long Calibrate(int micros)
    {
        var b = new SpinBody { Iterations = 1_000_000 };
        for (int i = 0; i < 50; i++) b.Invoke(0); // past tiered-JIT warm-up
        long t0 = Stopwatch.GetTimestamp();
        b.Invoke(0);
        double perIter = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / 1_000_000;
        return Math.Max(1, (long)(micros / perIter));
    }

    private struct SpinBody : IParallelBody
    {
        public long Iterations;
        public int CallerThread;
        public int OffCaller;
        public double Sink;

        public void Invoke(int index)
        {
            double x = index;
            for (long i = 0; i < Iterations; i++) x = x * 0.999999 + 1e-7;
            Sink += x;
            if (Environment.CurrentManagedThreadId != CallerThread) Interlocked.Increment(ref OffCaller);
        }
    }
}
