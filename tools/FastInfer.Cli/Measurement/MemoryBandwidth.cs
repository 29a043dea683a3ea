using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FastInfer.Cli.Measurement;

/// <summary>
/// Measures memory read bandwidth: sums a buffer far larger than the last-level cache with wide vector loads
/// (several accumulators), best of several passes. The bound for memory-bound layers (a large Dense's weights ÷ this).
/// </summary>
public static unsafe class MemoryBandwidth
{
    public static (double OneCore, double AllCores) Measure(int threads, long bytes = 256L << 20)
    {
        float* buffer = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            long floats = bytes / sizeof(float);
            new Span<byte>(buffer, (int)Math.Min(bytes, int.MaxValue)).Fill(1);
            if (bytes > int.MaxValue) new Span<byte>((byte*)buffer + int.MaxValue, (int)(bytes - int.MaxValue)).Fill(1);
            double one = 0, all = 0;
            for (int trial = 0; trial < 3; trial++)
            {
                long t0 = Stopwatch.GetTimestamp();
                GC.KeepAlive(Sum(buffer, floats));
                one = Math.Max(one, bytes / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9);
            }
            for (int trial = 0; trial < 3; trial++)
            {
                long per = floats / threads / 64 * 64;
                using var start = new ManualResetEventSlim(false);
                var workers = new Thread[threads];
                for (int i = 0; i < threads; i++)
                {
                    float* part = buffer + i * per;
                    workers[i] = new Thread(() => { start.Wait(); GC.KeepAlive(Sum(part, per)); }) { IsBackground = true };
                    workers[i].Start();
                }
                Thread.Sleep(20);
                long t0 = Stopwatch.GetTimestamp();
                start.Set();
                foreach (var w in workers) w.Join();
                all = Math.Max(all, per * threads * sizeof(float) / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9);
            }
            return (one, all);
        }
        finally { NativeMemory.AlignedFree(buffer); }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Sum(float* p, long n)
    {
        int w = Vector256<float>.Count;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        long i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            a0 += Vector256.LoadAligned(p + i);
            a1 += Vector256.LoadAligned(p + i + w);
            a2 += Vector256.LoadAligned(p + i + 2 * w);
            a3 += Vector256.LoadAligned(p + i + 3 * w);
        }
        float s = Vector256.Sum(a0 + a1 + a2 + a3);
        for (; i < n; i++) s += p[i];
        return s;
    }
}
