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

    /// <summary>
    /// A narrow N tail (up to <see cref="TailPairMaxCols"/> columns) of two panels in one call, for twice the FMA chains
    /// (<see cref="SgemmColumnTailAvx512.RunPair"/>); null where the tier has none.
    /// </summary>
    public readonly delegate*<int, float*, float*, int, int, float*, float*, int, int, float*, int, nint, int, TileContext*, void> RunTailPair;
    /// <summary>The same tail kernel for one panel (the odd one out of a pair), called directly rather than routed again through <see cref="Run"/>.</summary>
    public readonly delegate*<int, int, float*, float*, int, float*, nint, int, int, TileContext*, void> RunTail;
    public readonly int TailPairMaxCols;

    private SgemmKernelTable(IsaLevel isa, int mr, int nr, delegate*<int, int, float*, float*, nint, int, float*, nint, int, int, TileContext*, void> run,
        delegate*<int, float*, float*, int, int, float*, float*, int, int, float*, int, nint, int, TileContext*, void> runTailPair = null,
        delegate*<int, int, float*, float*, int, float*, nint, int, int, TileContext*, void> runTail = null, int tailPairMaxCols = 0)
    {
        Isa = isa; Mr = mr; Nr = nr; Run = run; RunTailPair = runTailPair; RunTail = runTail; TailPairMaxCols = tailPairMaxCols;
    }

    public static SgemmKernelTable For(IsaLevel isa) => isa switch
    {
        IsaLevel.Avx512 => SgemmColumnTailAvx512.Enabled
            ? new(isa, SgemmKernel12x32Avx512.Mr, SgemmKernel12x32Avx512.Nr, &SgemmKernel12x32Avx512.Run, &SgemmColumnTailAvx512.RunPair, &SgemmColumnTailAvx512.Run, SgemmColumnTailAvx512.PairMaxCols)
            : new(isa, SgemmKernel12x32Avx512.Mr, SgemmKernel12x32Avx512.Nr, &SgemmKernel12x32Avx512.Run),
        IsaLevel.Avx2Fma => new(isa, SgemmKernel6x16Avx2.Mr, SgemmKernel6x16Avx2.Nr, &SgemmKernel6x16Avx2.Run),
        IsaLevel.Vector128 => new(isa, SgemmKernel4x16Vector128.Mr, SgemmKernel4x16Vector128.Nr, &SgemmKernel4x16Vector128.Run),
        _ => new(IsaLevel.Scalar, SgemmKernel4x16Scalar.Mr, SgemmKernel4x16Scalar.Nr, &SgemmKernel4x16Scalar.Run),
    };

    /// <summary>The largest Mr of any tier (sizes the per-thread A scratch).</summary>
    public const int MaxMr = 16;
}
