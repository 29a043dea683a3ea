using FastInfer.Kernels.Platform;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// The SGEMM micro-kernel of one ISA tier and its tile: <see cref="Mr"/> rows of A per packed panel and
/// <see cref="Nr"/> columns per call (a multiple of the 16-column B panel, which every tier shares so that
/// packed weights do not depend on the tier).
/// </summary>
internal readonly unsafe struct SgemmKernelTable
{
    public readonly IsaLevel Isa;
    public readonly int Mr;
    public readonly int Nr;
    public readonly delegate*<int, int, float*, float*, nint, int, float*, nint, int, int, TileContext*, void> Run;

    private SgemmKernelTable(IsaLevel isa, int mr, int nr, delegate*<int, int, float*, float*, nint, int, float*, nint, int, int, TileContext*, void> run)
    {
        Isa = isa; Mr = mr; Nr = nr; Run = run;
    }

    public static SgemmKernelTable For(IsaLevel isa) => isa switch
    {
        IsaLevel.Avx512 => new(isa, SgemmKernel12x32Avx512.Mr, SgemmKernel12x32Avx512.Nr, &SgemmKernel12x32Avx512.Run),
        IsaLevel.Avx2Fma => new(isa, SgemmKernel6x16Avx2.Mr, SgemmKernel6x16Avx2.Nr, &SgemmKernel6x16Avx2.Run),
        IsaLevel.Vector128 => new(isa, SgemmKernel4x16Vector128.Mr, SgemmKernel4x16Vector128.Nr, &SgemmKernel4x16Vector128.Run),
        _ => new(IsaLevel.Scalar, SgemmKernel4x16Scalar.Mr, SgemmKernel4x16Scalar.Nr, &SgemmKernel4x16Scalar.Run),
    };

    /// <summary>The largest Mr of any tier (sizes the per-thread A scratch).</summary>
    public const int MaxMr = 16;
}
