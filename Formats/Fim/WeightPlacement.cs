namespace FastInfer.Formats;

/// <summary>Where a reader puts constant tensors (weights).</summary>
public enum WeightPlacement
{
    /// <summary>
    /// Copied once into graph-owned, 64-byte aligned native memory. The file can change or vanish after loading without
    /// affecting the model. The default.
    /// </summary>
    Pinned = 0,

    /// <summary>
    /// Used in place from a read-only memory map of the file, where the format allows (a <c>.fim</c> file; ONNX external
    /// data at 64-byte aligned offsets). Near-zero load time, and the pages are shared by every process that maps the
    /// same file. The file must not be truncated or rewritten while the model is loaded. Tensors that cannot be mapped
    /// (inline protobuf data, Keras weights) are copied as with <see cref="Pinned"/>.
    /// </summary>
    Mapped = 1,
}
