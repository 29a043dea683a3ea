using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// Per-thread packing scratch for non-constant GEMM operands: one KC×NC block of B (at the wide N block) and a block of
/// up to <see cref="GemmDriver.InPlaceBPanels"/> Mr×KC micro-panels of A (the one block of an A whose B is read in place).
/// Allocated once per thread on first use and kept (pool workers are persistent), so a GEMM allocates nothing per call.
/// </summary>
internal static unsafe class GemmScratch
{
    public const int BFloats = GemmBlocking.Kc * GemmBlocking.NcUnitsWide * 16;
    public const int AFloats = GemmBlocking.Kc * SgemmKernelTable.MaxMr * GemmDriver.InPlaceBPanels;

    [ThreadStatic] private static AlignedBuffer? t_buffer;

    /// <summary>B block at the start, A panels after <see cref="BFloats"/>.</summary>
    public static float* Get() => (t_buffer ??= new AlignedBuffer((long)(BFloats + AFloats) * sizeof(float), zero: true)).Floats;
}

/// <summary>Cache blocking (per core: L1d 48 KiB, L2 1 MiB).</summary>
internal static class GemmBlocking
{
    /// <summary>L2 per core on the machines this is tuned for (Zen 4/5: 1 MiB).</summary>
    public const long L2Bytes = 1 << 20;

    /// <summary>
    /// Largest K block. A kernel call's fixed cost (zeroing 24 accumulators, the tile store) is paid once per K block,
    /// so longer blocks run closer to the peak (the micro-kernel alone: 83% at kc = 128, 88% at 256, 89% at 384); the
    /// kc×32 B slice (48 KiB at 384) then no longer stays in L1 but streams from L2 fast enough.
    /// </summary>
    public const int Kc = 384;

    /// <summary>
    /// The K block for a product with this K: K split into equal blocks of at most <see cref="Kc"/>, rounded up to 8,
    /// so no block is a short remainder (K = 384 is one block, not 256 + 128). Depends on K alone, so the sequence
    /// of FMAs per element of C — the result — does not depend on the thread count.
    /// </summary>
    public static int KStep(int k)
    {
        int blocks = Math.Max(1, (k + Kc - 1) / Kc);
        return Math.Min(Kc, ((k + blocks - 1) / blocks + 7) & ~7);
    }

    /// <summary>
    /// Whether a prepacked B's next slice is prefetched while the current one is used (<see cref="MicroKernels.TileContext.Prefetch"/>);
    /// a switch so the benchmarks can measure it on and off in one process.
    /// </summary>
    internal static bool PrefetchPrepackedB = true;

    /// <summary>N block in 16-column units (256 columns): a KC×NC block of B is 384 KiB, beside the A block in L2.</summary>
    public const int NcUnits = 16;
    /// <summary>
    /// N block (1024 columns, a 1.5 MiB B block in L3) when A is packed on the fly and spans a whole M block or more:
    /// A is then repacked once per N block, and with 256-column blocks that was four times at 1024³ (packing took
    /// about a tenth of the time). A B slice then comes from L3 rather than L2 for each M block, which pays only when
    /// an M block (16 panels) reuses it: 1024³ one thread 202.6 against 193.4 GFLOP/s (medians, in-process A/B),
    /// 2048³ 186 against 178; with 64-row A (ResNet's stem as im2col) it was a few % slower, so it stays off there.
    /// </summary>
    public const int NcUnitsWide = 64;
    /// <summary>
    /// M block in Mr-row panels: up to 16 packed A panels (16×12×384×4 = 288 KiB, L2) are swept by each kc×Nr slice
    /// of B (up to 48 KiB, L1/L2) before the next slice is touched.
    /// </summary>
    public const int McPanels = 16;
}
