using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Cli.Measurement;

/// <summary>
/// Measures the FP32 FMA peak: a loop of 12 independent FMA chains (enough to cover FMA latency × issue width on current
/// x64 cores) over the widest vector the CPU has. GFLOP/s = chains × lanes × 2 × iterations / time. Best of many short
/// trials (about 2 ms each), so that on a shared machine one undisturbed time slice is enough to see the peak.
/// </summary>
public static class FmaPeak
{
    public static int VectorBits => Avx512F.IsSupported ? 512 : Fma.IsSupported ? 256 : 128;

    public static double MeasureOneCore()
    {
        long iterations = Calibrate();
        return BestRate(iterations);
    }

    /// <summary>
    /// All cores at once: one thread per logical core, released together; each keeps its best trial while the others run,
    /// and the per-core bests are summed.
    /// </summary>
    public static double MeasureAllCores(int threads)
    {
        long iterations = Calibrate();
        var best = new double[threads];
        using var start = new ManualResetEventSlim(false);
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            int id = i;
            workers[i] = new Thread(() => { start.Wait(); best[id] = BestRate(iterations); }) { IsBackground = true };
            workers[i].Start();
        }
        Thread.Sleep(20);
        start.Set();
        foreach (var w in workers) w.Join();
        return best.Sum();
    }

    private static double BestRate(long iterations)
    {
        double best = 0;
        for (int trial = 0; trial < Trials; trial++)
        {
            long t0 = Stopwatch.GetTimestamp();
            float sink = Loop(iterations);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            GC.KeepAlive(sink);
            best = Math.Max(best, Flops(iterations) / s / 1e9);
        }
        return best;
    }

    // Many short trials: on a shared machine the scheduler interrupts long ones; the best 2 ms slice shows the hardware.
    private const int Trials = 150;

    private static double Flops(long iterations) => iterations * 12.0 * (VectorBits / 32) * 2;

    /// <summary>Iterations for about 2 ms on one core.</summary>
    private static long Calibrate()
    {
        long n = 10_000;
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            GC.KeepAlive(Loop(n));
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (s > 0.002) return Math.Max(1, (long)(n * 0.002 / s));
            n *= 2;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Loop(long iterations)
    {
        if (Avx512F.IsSupported) return Loop512(iterations);
        if (Fma.IsSupported) return Loop256(iterations);
        return Loop128(iterations);
    }

    // acc = acc·m + a with m slightly below 1 converges to a/(1−m): values stay normal, never overflow or go denormal.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long n)
    {
        var m = Vector512.Create(0.999999f); var a = Vector512.Create(1e-6f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < n; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a); c2 = Avx512F.FusedMultiplyAdd(c2, m, a);
            c3 = Avx512F.FusedMultiplyAdd(c3, m, a); c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a); c8 = Avx512F.FusedMultiplyAdd(c8, m, a);
            c9 = Avx512F.FusedMultiplyAdd(c9, m, a); c10 = Avx512F.FusedMultiplyAdd(c10, m, a); c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long n)
    {
        var m = Vector256.Create(0.999999f); var a = Vector256.Create(1e-6f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < n; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a);
            c3 = Fma.MultiplyAdd(c3, m, a); c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
            c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a); c8 = Fma.MultiplyAdd(c8, m, a);
            c9 = Fma.MultiplyAdd(c9, m, a); c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    // Without FMA hardware a fused multiply-add is emulated in software; a multiply and an add are the honest 2 flops.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop128(long n)
    {
        var m = Vector128.Create(0.999999f); var a = Vector128.Create(1e-6f);
        Vector128<float> c0 = Vector128.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < n; i++)
        {
            c0 = c0 * m + a; c1 = c1 * m + a; c2 = c2 * m + a;
            c3 = c3 * m + a; c4 = c4 * m + a; c5 = c5 * m + a;
            c6 = c6 * m + a; c7 = c7 * m + a; c8 = c8 * m + a;
            c9 = c9 * m + a; c10 = c10 * m + a; c11 = c11 * m + a;
        }
        return Vector128.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
