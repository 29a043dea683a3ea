namespace FastInfer.Kernels.Pooling;

/// <summary>
/// Geometry of 2-D pooling over NCHW planes. The output size is given, not derived, because ONNX's
/// ceil_mode and auto_pad rules decide it (the runtime computes it once per shape).
/// </summary>
public readonly record struct PoolShape
{
    /// <summary>N·C: the number of independent planes.</summary>
    public int Planes { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int OutHeight { get; init; }
    public int OutWidth { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideHeight { get; init; }
    public int StrideWidth { get; init; }
    public int DilationHeight { get; init; }
    public int DilationWidth { get; init; }
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    /// <summary>Bottom and right pads; with ceil_mode a window may also run past them, and those cells never count.</summary>
    public int PadBottom { get; init; }
    public int PadRight { get; init; }
}

public enum PoolKind { Max, Average }
