using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// The machine's measured single-core FP32 FMA peak: 12 independent zmm FMA chains (enough to cover
/// FMA latency × throughput on Zen 5), timed over many iterations; the best of several tries.
/// </summary>
public static class FmaPeak
{
    /// <summary>The best of many short bursts (a few ms each), so that a burst the OS did not interrupt is found on a busy machine.</summary>
    public static double MeasureGflops(int tries = 300)
    {
        if (!Avx512F.IsSupported) return double.NaN;
        double best = 0;
        const long iterations = 500_000;
        Chains(1000);
        for (int t = 0; t < tries; t++)
        {
            var sw = Stopwatch.StartNew();
            float sink = Chains(iterations);
            sw.Stop();
            double flops = iterations * 12.0 * 16 * 2;
            best = Math.Max(best, flops / sw.Elapsed.TotalSeconds / 1e9 + (sink == 12345f ? 1e-9 : 0));
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chains(long n)
    {
        var m = Vector512.Create(0.9999999f);
        var add = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < n; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, add); c1 = Avx512F.FusedMultiplyAdd(c1, m, add);
            c2 = Avx512F.FusedMultiplyAdd(c2, m, add); c3 = Avx512F.FusedMultiplyAdd(c3, m, add);
            c4 = Avx512F.FusedMultiplyAdd(c4, m, add); c5 = Avx512F.FusedMultiplyAdd(c5, m, add);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, add); c7 = Avx512F.FusedMultiplyAdd(c7, m, add);
            c8 = Avx512F.FusedMultiplyAdd(c8, m, add); c9 = Avx512F.FusedMultiplyAdd(c9, m, add);
            c10 = Avx512F.FusedMultiplyAdd(c10, m, add); c11 = Avx512F.FusedMultiplyAdd(c11, m, add);
        }
        var s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return Vector512.Sum(s);
    }
}
