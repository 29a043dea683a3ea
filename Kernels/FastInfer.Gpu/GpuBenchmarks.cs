using System.Diagnostics;
using FastInfer.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FastInfer.Gpu;

/// <summary>Device-only measurements for tools/gpu-check.sh (no host transfers in the timed part).</summary>
public static class GpuBenchmarks
{
    /// <summary>
    /// Median seconds of one M×N×K SGEMM with the 128×128-tile kernel on device-resident random data, after a warm-up;
    /// stops after <paramref name="repeats"/> runs or <paramref name="budgetSeconds"/>.
    /// </summary>
    public static double SgemmSeconds(GpuAccelerator gpu, int m, int n, int k, int repeats = 10, double budgetSeconds = 10)
    {
        var acc = gpu.Accelerator;
        using var a = acc.Allocate1D<float>((long)m * k);
        using var b = acc.Allocate1D<float>((long)k * n);
        using var c = acc.Allocate1D<float>((long)m * n);
        var fill = new float[Math.Max((long)m * k, (long)k * n)];
        var rng = new Random(1);
        for (int i = 0; i < fill.Length; i++) fill[i] = (float)(rng.NextDouble() - 0.5);
        a.View.CopyFromCPU(ref fill[0], a.Length);
        b.View.CopyFromCPU(ref fill[0], b.Length);
        var p = new GemmParams { M = m, N = n, K = k, Lda = k, Ldb = n, Ldc = n, InnerCount = 1 };
        var config = GemmKernelLarge.Config(p, 1);
        var stream = acc.DefaultStream;
        lock (gpu.LaunchLock)
        {
            gpu.Kernels.GemmLarge(stream, config, a.View, b.View, c.View, gpu.Dummy.View, gpu.Dummy.View, p);
            stream.Synchronize();
            var times = new List<double>();
            var total = Stopwatch.StartNew();
            while (times.Count < repeats && (times.Count == 0 || total.Elapsed.TotalSeconds < budgetSeconds))
            {
                var sw = Stopwatch.StartNew();
                gpu.Kernels.GemmLarge(stream, config, a.View, b.View, c.View, gpu.Dummy.View, gpu.Dummy.View, p);
                stream.Synchronize();
                times.Add(sw.Elapsed.TotalSeconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }
    }
}
