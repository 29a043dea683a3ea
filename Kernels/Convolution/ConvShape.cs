namespace FastInfer.Kernels.Convolution;

/// <summary>
/// The geometry of a 2-D convolution over NCHW tensors: X[N,C,H,W] * W[M,C/group,KH,KW] → Y[N,M,OH,OW].
/// A 1-D convolution is the case H = KH = 1.
/// </summary>
public readonly record struct ConvShape
{
    public int Batch { get; init; }
    public int InChannels { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int OutChannels { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideHeight { get; init; }
    public int StrideWidth { get; init; }
    public int DilationHeight { get; init; }
    public int DilationWidth { get; init; }
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    public int PadBottom { get; init; }
    public int PadRight { get; init; }
    public int Group { get; init; }

    public int OutHeight => (InHeight + PadTop + PadBottom - ((KernelHeight - 1) * DilationHeight + 1)) / StrideHeight + 1;
    public int OutWidth => (InWidth + PadLeft + PadRight - ((KernelWidth - 1) * DilationWidth + 1)) / StrideWidth + 1;
    public int InChannelsPerGroup => InChannels / Group;
    public int OutChannelsPerGroup => OutChannels / Group;
    /// <summary>The GEMM depth per group: C/group · KH · KW.</summary>
    public int KernelSize => InChannelsPerGroup * KernelHeight * KernelWidth;

    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
        && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;
    public bool IsDepthwise => Group == InChannels && Group == OutChannels && Group > 1;

    /// <summary>Multiply-adds per image (for GFLOP/s figures).</summary>
    public long MultiplyAdds => (long)OutChannels * OutHeight * OutWidth * KernelSize;
}
