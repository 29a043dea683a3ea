namespace FastInfer.Kernels.Convolution;

/// <summary>How <see cref="Conv2D"/> computes a convolution.</summary>
public enum ConvAlgorithm
{
    /// <summary>Direct depthwise, direct 1×1, or im2col + packed GEMM, by shape.</summary>
    Gemm,
    /// <summary>Winograd F(4×4, 3×3) (3×3 stride 1 only): a quarter of the multiplies, transforms around 36 GEMMs.</summary>
    Winograd,
}
