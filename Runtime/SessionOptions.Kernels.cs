using FastInfer.Kernels.Platform;

namespace FastInfer.Runtime;

/// <summary>Which matrix-product implementation GEMM and MatMul nodes use.</summary>
public enum GemmProvider
{
    /// <summary>FastInfer's own packed, register-blocked kernels (the default; weights packed once).</summary>
    Managed,
    /// <summary>
    /// A native CBLAS <c>cblas_sgemm</c> (MKL's <c>mkl_rt</c> first, else OpenBLAS) loaded through NativeLibrary;
    /// the epilogue (bias, activation) stays managed. Session creation fails with a clear message when none loads.
    /// </summary>
    Cblas,
}

/// <summary>Kernel choices: GEMM provider, Winograd convolution, ISA tier.</summary>
public sealed partial class SessionOptions
{
    /// <summary>Matrix products of Gemm/MatMul nodes: managed kernels (default) or a native CBLAS.</summary>
    public GemmProvider GemmProvider { get; set; } = GemmProvider.Managed;

    /// <summary>
    /// Run 3×3 stride-1 convolutions through Winograd where it is expected to win (AVX-512 only): F(4×4, 3×3), or
    /// F(2×2, 3×3) on images too small for its tiles (ResNet's 7×7 stage; its transformed filters take 1.8× the
    /// filters' memory). Results stay within fp32 tolerance of the direct convolution but are not bit-identical to it.
    /// </summary>
    public bool Winograd { get; set; } = true;

    /// <summary>
    /// The ISA tier this session's kernels use (null: the process default, <see cref="KernelIsa.Current"/> at
    /// session creation). Must be supported by this CPU.
    /// </summary>
    public IsaLevel? Isa { get; set; }
}
