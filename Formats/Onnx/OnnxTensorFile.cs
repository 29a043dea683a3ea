using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Reads standalone serialized TensorProto files (the <c>input_0.pb</c> files of ONNX test cases).</summary>
public static class OnnxTensorFile
{
    public static unsafe LoadedTensor Read(string path, ReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= ReaderLimits.Default;
        using var source = new MappedFileSource(path, limits.MaxFileBytes);
        using var ctx = new OnnxParseContext(source, limits);
        return Parse(ctx);
    }

    /// <param name="baseDirectory">Folder that external data paths are relative to; null forbids external data.</param>
    public static unsafe LoadedTensor Read(ReadOnlySpan<byte> bytes, string? baseDirectory = null, ReaderLimits? limits = null, string? sourceName = null)
    {
        limits ??= ReaderLimits.Default;
        if (bytes.Length > limits.MaxFileBytes)
            throw new ModelFormatException($"the tensor file is {bytes.Length} bytes, over the limit of {limits.MaxFileBytes} (ReaderLimits.MaxFileBytes)", sourceName);
        fixed (byte* p = bytes)
        {
            using var source = new MemorySource(p, bytes.Length, sourceName, baseDirectory);
            using var ctx = new OnnxParseContext(source, limits);
            return Parse(ctx);
        }
    }

    private static unsafe LoadedTensor Parse(OnnxParseContext ctx)
    {
        var owner = new ModelGraph { SourcePath = ctx.FilePath, SourceFormat = "onnx" };
        try
        {
            var r = new ProtoReader(ctx.Source.Pointer, 0, ctx.Source.Length, ctx, "tensor");
            return new LoadedTensor(owner, OnnxTensorParser.Parse(r, owner, "tensor"));
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }
}
