using System.Diagnostics;
using System.Runtime.InteropServices;
using FastInfer.Kernels.Blas;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Threading;

namespace FastInfer.Cli.Measurement;

/// <summary>SGEMM GFLOP/s (2·M·N·K per call) for the managed kernels and, when one loads, a CBLAS library; best of timed repeats.</summary>
public static unsafe class GemmThroughput
{
    /// <summary>The shapes sysinfo reports: squares, and ResNet-18's convolutions as GEMMs (M = out channels, N = output pixels, K = in channels × kernel area).</summary>
    public static readonly (string Name, int M, int N, int K)[] Shapes =
    [
        ("256^3", 256, 256, 256),
        ("1024^3", 1024, 1024, 1024),
        ("resnet18 conv1 7x7/2", 64, 112 * 112, 3 * 49),
        ("resnet18 layer1 3x3", 64, 56 * 56, 64 * 9),
        ("resnet18 layer2 3x3", 128, 28 * 28, 128 * 9),
        ("resnet18 layer3 3x3", 256, 14 * 14, 256 * 9),
        ("resnet18 layer4 3x3", 512, 7 * 7, 512 * 9),
    ];

    /// <summary>
    /// Best GFLOP/s of each product on the same operands, measured interleaved (one call of each per round) so a noisy
    /// spell on this shared machine slows all of them alike. Best of at least five rounds and 1.5 s: a comparable
    /// number of samples to the FMA peak's best of 150 bursts, which the fractions of peak divide by.
    /// </summary>
    public static double[] Measure(int m, int n, int k, params Action<nint, nint, nint>[] gemms)
    {
        float* a = Alloc((long)m * k), b = Alloc((long)k * n), c = Alloc((long)m * n);
        try
        {
            var rng = new Random(7);
            for (long i = 0; i < (long)m * k; i++) a[i] = (float)rng.NextDouble() - 0.5f;
            for (long i = 0; i < (long)k * n; i++) b[i] = (float)rng.NextDouble() - 0.5f;
            // Warm-up: packing buffers, and half a second of calls each so the tiered JIT has promoted the driver and
            // packing loops (timing their first-tier code understated 1024³ by about 10%).
            foreach (var gemm in gemms)
            {
                long warmEnd = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
                do gemm((nint)a, (nint)b, (nint)c); while (Stopwatch.GetTimestamp() < warmEnd);
            }
            double flops = 2.0 * m * n * k, total = 0;
            var best = new double[gemms.Length];
            Array.Fill(best, double.MaxValue);
            for (int round = 0; round < 5 || (total < 1.5 && round < 1000); round++)
                for (int g = 0; g < gemms.Length; g++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    gemms[g]((nint)a, (nint)b, (nint)c);
                    double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    best[g] = Math.Min(best[g], s);
                    total += s;
                }
            return [.. best.Select(t => flops / t / 1e9)];
        }
        finally { NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(b); NativeMemory.AlignedFree(c); }
    }

    /// <summary>
    /// Interleaved on one pool: the managed SGEMM with both operands packed per call (like for like with CBLAS), the
    /// managed SGEMM with A packed once beforehand (a convolution's weights, as a session runs them), and the CBLAS
    /// library's when one is given (NaN without). GFLOP/s of each.
    /// </summary>
    public static (double Managed, double Prepacked, double Cblas) ManagedAndCblas(int m, int n, int k, WorkerPool pool, CblasProvider? blas)
    {
        float* weights = Alloc((long)m * k);
        try
        {
            var rng = new Random(11);
            for (long i = 0; i < (long)m * k; i++) weights[i] = (float)rng.NextDouble() - 0.5f;
            using var packed = Sgemm.PackA(false, m, k, weights, k);
            Action<nint, nint, nint> managed = (a, b, c) =>
                Sgemm.Multiply(false, false, m, n, k, 1f, (float*)a, k, (float*)b, n, 0f, (float*)c, n, default, pool);
            Action<nint, nint, nint> prepacked = (a, b, c) => Sgemm.MultiplyPackedA(packed, n, (float*)b, n, (float*)c, n, default, pool);
            if (blas is null)
            {
                var own = Measure(m, n, k, managed, prepacked);
                return (own[0], own[1], double.NaN);
            }
            var r = Measure(m, n, k, managed, prepacked, (a, b, c) => blas.Sgemm(false, false, m, n, k, 1f, (float*)a, k, (float*)b, n, 0f, (float*)c, n));
            return (r[0], r[1], r[2]);
        }
        finally { NativeMemory.AlignedFree(weights); }
    }

    private static float* Alloc(long floats)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        new Span<float>(p, checked((int)floats)).Clear();
        return p;
    }
}
