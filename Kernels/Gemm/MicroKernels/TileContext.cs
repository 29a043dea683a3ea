namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// What a micro-kernel does with its accumulators when it stores a tile: scale by alpha, merge with C
/// (beta·C on the first K block, +C on later ones), and on the last K block the epilogue (bias, residual,
/// activation). One per task on the stack; <see cref="First"/>/<see cref="Last"/> change per K block.
/// </summary>
internal unsafe struct TileContext
{
    public float Alpha, Beta;
    public bool AlphaIsOne, First, Last;
    public float* Bias;
    public BiasKind BiasKind;
    public float* Residual;
    public long ResidualStride;
    public Activation Activation;
    /// <summary>
    /// When not null: this call's share of the next kc×Nr B slice (from its first 16-column panel; the second is
    /// <see cref="PrefetchPanelStride"/> further), which an AVX-512 call of 8 rows or more pulls into L2, a line of each
    /// panel every <see cref="PrefetchInterval"/> k steps. The driver shares the slice out among a block's panels when B
    /// is a prepacked weight streaming from memory, so the next slice's DRAM latency hides behind this slice's FMAs.
    /// Other kernels ignore it.
    /// </summary>
    public float* Prefetch;
    public nint PrefetchPanelStride;
    /// <summary>K steps between prefetches (one line of each panel each time); at least 1.</summary>
    public int PrefetchInterval;
    /// <summary>
    /// Floats from one k step of a B slice to the next: 16 in a packed panel; the row stride when the AVX-512 kernel
    /// reads full 32-column slices of a row-major B in place (<see cref="GemmDriver"/>'s short-A case). The second
    /// 16-column half is then 16 floats on, and the slice's prefetch advances by the same step.
    /// </summary>
    public nint BStep;
    /// <summary>
    /// When not null (and <see cref="Prefetch"/> is null): the A panel slice the next call will read, which a full
    /// 12-row AVX-512 call pulls into L2 one line per k step. The driver sets it on the first B slice of a block when A is a
    /// prepacked weight: each panel's slice is then a separate stream (a whole panel of K apart) that the hardware
    /// prefetcher would only pick up after several misses.
    /// </summary>
    public float* PrefetchA;

    /// <summary>
    /// Whether the AVX-512 and AVX2 kernels may store a tile with nothing but a store or accumulate to do straight from their
    /// accumulators (see <see cref="SgemmKernel12x32Avx512"/>); from <see cref="AllowPlainStores"/>, read here so that
    /// the kernels read no static field.
    /// </summary>
    public bool PlainStores;

    /// <summary>Default of <see cref="PlainStores"/>. A field for A/B runs.</summary>
    internal static bool AllowPlainStores = true;

    /// <summary>Whether C is merged as is: alpha 1, and either an earlier K block's sum is added or C is not read (beta 0).</summary>
    public readonly bool MergesPlainly => AlphaIsOne && (!First || Beta == 0);

    /// <summary>Whether the epilogue does nothing: no bias, no residual, no activation.</summary>
    public readonly bool EpilogueIsEmpty => BiasKind == BiasKind.None && Residual == null && Activation.Kind == ActivationKind.None;

    public TileContext(float alpha, float beta, in GemmEpilogue e)
    {
        PlainStores = AllowPlainStores;
        Alpha = alpha; Beta = beta; AlphaIsOne = alpha == 1f; First = true; Last = true;
        Bias = e.Bias; BiasKind = e.Bias == null ? BiasKind.None : e.BiasKind;
        Residual = e.Residual; ResidualStride = e.ResidualStride; Activation = e.Activation;
        PrefetchInterval = 1;
        BStep = 16;
    }

    /// <summary>The scalar store: used by the scalar kernel and by partial vectors of the portable one.</summary>
    public readonly void Store(float* c, float acc, int row, int col)
    {
        float v = AlphaIsOne ? acc : Alpha * acc;
        if (First) { if (Beta != 0) v += Beta * *c; }
        else v += *c;
        if (Last)
        {
            if (BiasKind == BiasKind.PerRow) v += Bias[row];
            else if (BiasKind == BiasKind.PerColumn) v += Bias[col];
            if (Residual != null) v += Residual[row * ResidualStride + col];
            v = Activation.Apply(v);
        }
        *c = v;
    }
}
