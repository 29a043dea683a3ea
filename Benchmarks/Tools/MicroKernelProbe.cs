using System.Diagnostics;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// The SGEMM micro-kernel alone, with its operands in L1 (one Mr×kc A panel, one kc×Nr B slice, one C tile): the
/// ceiling every GEMM built on it can reach. The gap between this and a whole SGEMM is blocking, packing and stores.
/// </summary>
public static unsafe class MicroKernelProbe
{
    public static void Run(double peak)
    {
        var kernel = SgemmKernelTable.For(KernelIsa.Current);
        // A short warm-up first: the probe loop and the kernel's dispatch are jitted in tiers, and the first lines
        // measured (kc = 64) ran at 40-70% of peak on tier-0 code.
        for (int i = 0; i < 3; i++) Probe(kernel, 64, 1, peak, "", quiet: true);
        foreach (int kc in new[] { 64, 128, 256, 384, 512 })
        {
            Probe(kernel, kc, 1, peak, "A, B and C in L1");
            if (kc == 256)
            {
                Probe(kernel, kc, GemmBlocking.McPanels, peak, $"A cycling over {GemmBlocking.McPanels} panels (L2), as the driver runs it");
                Probe(kernel, kc, 1, peak, "16-column tile (one B vector per k): N tails, Winograd's narrow products", cols: 16);
            }
        }
        // Every M tail (the last panel of an M that Mr does not divide): fraction of peak for the rows it has.
        for (int rows = 1; rows < kernel.Mr; rows++) Probe(kernel, 384, 1, peak, $"{rows}-row tail", rows: rows);
    }

    private static void Probe(SgemmKernelTable kernel, int kc, int aPanels, double peak, string what, int cols = 0, int rows = 0, bool quiet = false)
    {
        using var a = new AlignedBuffer((long)aPanels * kernel.Mr * kc * 4);
        using var b = new AlignedBuffer((long)kernel.Nr * kc * 4);
        using var c = new AlignedBuffer((long)aPanels * kernel.Mr * kernel.Nr * 4);
        for (long i = 0; i < aPanels * kernel.Mr * kc; i++) a.Floats[i] = 1e-3f;
        for (long i = 0; i < kernel.Nr * kc; i++) b.Floats[i] = 1e-3f;
        var ctx = new TileContext(1f, 0f, default);
        if (cols == 0) cols = kernel.Nr;
        if (rows == 0) rows = kernel.Mr;
        long flopsPerCall = 2L * rows * cols * kc;
        int calls = (int)(2e9 / flopsPerCall) / aPanels * aPanels;
        var best = double.MaxValue;
        for (int rep = 0; rep < 7; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
            {
                int p = i % aPanels;
                kernel.Run(rows, cols, a.Floats + (long)p * kernel.Mr * kc, b.Floats, (nint)16 * kc, kc,
                    c.Floats + (long)p * kernel.Mr * kernel.Nr, kernel.Nr, 0, 0, &ctx);
            }
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        double gflops = flopsPerCall * (double)calls / best / 1e9;
        if (!quiet) Console.WriteLine($"micro-kernel {kernel.Isa} {rows}x{cols} kc={kc,4}: {gflops,6:F1} GFLOP/s ({(peak > 0 ? 100 * gflops / peak : 0):F0}% of peak) — {what}");
    }
}
