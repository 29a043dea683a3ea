using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// Per-thread packing scratch for non-constant GEMM operands: one KC×NC block of B and a block of
/// up to McPanels Mr×KC micro-panels of A. Allocated once per thread on first use and kept (pool workers are persistent),
/// so a GEMM allocates nothing per call.
/// </summary>
internal static unsafe class GemmScratch
{
    public const int BFloats = GemmBlocking.Kc * GemmBlocking.NcUnits * 16;
    public const int AFloats = GemmBlocking.Kc * SgemmKernelTable.MaxMr * GemmBlocking.McPanels;

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
    /// K block: the B slice a kernel call streams (256×32×4 = 32 KiB) stays in L1 while the kernel runs
    /// over an M block of A panels (12×256×4 = 12 KiB each) from L2.
    /// </summary>
    public const int Kc = 256;
    /// <summary>N block in 16-column units (512 columns): a KC×NC block of B is 512 KiB, half of L2.</summary>
    public const int NcUnits = 32;
    /// <summary>
    /// M block in Mr-row panels: up to 8 packed A panels (8×12×256×4 = 96 KiB, L2) are swept by each kc×Nr slice
    /// of B (32 KiB, L1) before the next slice is touched.
    /// </summary>
    public const int McPanels = 8;
}
