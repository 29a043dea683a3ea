namespace FastInfer.Formats.Onnx;

/// <summary>How <see cref="OnnxWriter"/> lays out a model.</summary>
public sealed record OnnxWriteOptions
{
    /// <summary>
    /// Tensors of at least this many bytes are written to one external data file, <c>&lt;model file name&gt;.data</c>
    /// beside the model, each at an offset aligned to 4096 bytes so it can be memory-mapped. Null keeps every tensor inline
    /// (a protobuf file cannot exceed 2 GB, so large models need this).
    /// </summary>
    public long? ExternalDataThreshold { get; init; }
}
