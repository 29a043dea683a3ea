using FastInfer.Formats;

namespace FastInfer.Runtime;

/// <summary>How a session is built and run.</summary>
public sealed partial class SessionOptions
{
    /// <summary>Threads one Run uses, the caller included; 1 = fully single-threaded. Default: all cores.</summary>
    public int IntraOpThreads { get; set; } = Environment.ProcessorCount;

    /// <summary>Run the graph passes (constant folding, Conv+BatchNorm folding, activation fusion, ...).</summary>
    public bool OptimizeGraph { get; set; } = true;

    /// <summary>Plans kept for distinct input shapes; the least recently used is dropped beyond this.</summary>
    public int PlanCacheSize { get; set; } = 8;

    /// <summary>Values for symbolic dimensions when a plan must be built before the first Run (inspect, warm-up).</summary>
    public Dictionary<string, int> DimensionBindings { get; } = new(StringComparer.Ordinal);

    /// <summary>Bounds the model reader enforces.</summary>
    public ReaderLimits ReaderLimits { get; set; } = ReaderLimits.Default;

    internal int EffectiveThreads => Math.Max(1, IntraOpThreads);
}
