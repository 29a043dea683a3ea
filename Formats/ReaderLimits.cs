namespace FastInfer.Formats;

/// <summary>
/// Bounds every reader enforces on what a file may ask for, so that a hostile or corrupt file cannot make
/// the process allocate without limit, recurse without end, or spin. Exceeding one throws
/// <see cref="ModelFormatException"/> naming the limit. The defaults admit every real model we know of
/// (the largest is a 4 GB single tensor) while stopping absurd sizes.
/// </summary>
public sealed record ReaderLimits
{
    /// <summary>Largest model file (the protobuf or container itself, not external data).</summary>
    public long MaxFileBytes { get; init; } = 4L << 30;
    /// <summary>Largest single tensor.</summary>
    public long MaxTensorBytes { get; init; } = 16L << 30;
    /// <summary>Sum of all constant tensors.</summary>
    public long MaxTotalWeightBytes { get; init; } = 64L << 30;
    public int MaxNodes { get; init; } = 1_000_000;
    public int MaxRank { get; init; } = 16;
    /// <summary>Largest value of one dimension.</summary>
    public long MaxDim { get; init; } = 1L << 40;
    /// <summary>Deepest nesting of subgraphs (If/Loop bodies) and protobuf messages.</summary>
    public int MaxGraphDepth { get; init; } = 32;
    /// <summary>Largest number of elements in one attribute list or repeated field.</summary>
    public long MaxListLength { get; init; } = 1L << 28;

    /// <summary>
    /// Where weights go: copied into pinned aligned memory (default) or used in place from a memory-mapped file where
    /// the format allows it. Not a bound, but carried here so every reader entry point receives it.
    /// </summary>
    public WeightPlacement WeightPlacement { get; init; } = WeightPlacement.Pinned;
    /// <summary>
    /// Verify the per-tensor checksums of formats that have them (<c>.fim</c>) at load. The header and graph checksums
    /// are always verified; turning this off skips one pass over the weights for trusted files.
    /// </summary>
    public bool VerifyTensorChecksums { get; init; } = true;

    public static ReaderLimits Default { get; } = new();
}
