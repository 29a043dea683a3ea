using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Reads ONNX models (ModelProto) into a <see cref="ModelGraph"/>.</summary>
public static class OnnxReader
{
    /// <summary>Newest ONNX IR version understood.</summary>
    public const long MaxIrVersion = 13;
    /// <summary>Newest default-domain operator set supported.</summary>
    public const long MaxOpset = 25;

    /// <summary>
    /// Loads a model file. The file is memory-mapped for the structural parse and unmapped before returning; weights are
    /// read into graph-owned, 64-byte aligned native memory. External data is resolved relative to the file's folder.
    /// </summary>
    public static unsafe ModelGraph Load(string path, ReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= ReaderLimits.Default;
        using var source = new MappedFileSource(path, limits.MaxFileBytes);
        using var ctx = new OnnxParseContext(source, limits);
        return OnnxModelParser.Parse(ctx);
    }

    /// <summary>Loads a model from bytes in memory.</summary>
    /// <param name="baseDirectory">Folder that external data paths are relative to; null forbids external data.</param>
    /// <param name="sourceName">A name for messages (e.g. the original file name).</param>
    public static unsafe ModelGraph Load(ReadOnlySpan<byte> bytes, string? baseDirectory = null, ReaderLimits? limits = null, string? sourceName = null)
    {
        limits ??= ReaderLimits.Default;
        if (bytes.IsEmpty) throw new ModelFormatException("the model is empty", sourceName);
        if (bytes.Length > limits.MaxFileBytes)
            throw new ModelFormatException($"the model is {bytes.Length} bytes, over the limit of {limits.MaxFileBytes} (ReaderLimits.MaxFileBytes)", sourceName);
        fixed (byte* p = bytes)
        {
            using var source = new MemorySource(p, bytes.Length, sourceName, baseDirectory);
            using var ctx = new OnnxParseContext(source, limits);
            return OnnxModelParser.Parse(ctx);
        }
    }
}
