namespace FastInfer.Kernels.Convolution;

/// <summary>How <see cref="Conv2D"/> computes a convolution.</summary>
public enum ConvAlgorithm
{
    /// <summary>Direct depthwise, direct 1×1, or im2col + packed GEMM, by shape.</summary>
    Gemm,
    /// <summary>
    /// Small images with many channels (ResNet's 7×7 stage): pixels as GEMM rows, Yᵀ = colᵀ·Wᵀ with Wᵀ packed
    /// once, so the wide dimension is the channel count rather than a few dozen pixels (no half-empty tiles).
    /// </summary>
    PixelRowsGemm,
    /// <summary>Winograd F(4×4, 3×3) (3×3 stride 1 only): a quarter of the multiplies, transforms around 36 GEMMs.</summary>
    Winograd,
    /// <summary>
    /// Winograd F(2×2, 3×3) (3×3 stride 1, small images with many channels, where F(4×4, 3×3) has too few tiles):
    /// 0.58 of the direct multiplies on a 7×7 image, the tiles as GEMM rows.
    /// </summary>
    WinogradF23,
    /// <summary>Few input channels, stride 1 (an image's first layer): direct, 16 pixels × 16 channels in registers, no im2col.</summary>
    DirectSmall,
    /// <summary>Many channels, no Winograd (ResNet's stride-2 3×3): direct, 6 pixels × 64 channels in registers from a padded copy of the input.</summary>
    DirectTiles,
}
