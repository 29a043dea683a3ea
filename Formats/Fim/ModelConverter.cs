using FastInfer.Formats.Fim;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;

namespace FastInfer.Formats;

/// <summary>
/// Converts between model files: any readable format (ONNX, Keras, .fim) to <c>.fim</c> or ONNX, chosen by the output
/// extension. Intended for <c>fastinfer convert</c>; the reader's weights are streamed to the output, never duplicated.
/// </summary>
public static class ModelConverter
{
    /// <summary>ONNX outputs put tensors of at least this many bytes in external data once the weights pass 1 GiB.</summary>
    public const long DefaultExternalThreshold = 1 << 20;

    /// <param name="progress">Called with (bytes written, total) while tensor data is written (.fim outputs).</param>
    public static void Convert(string input, string output, ReaderLimits? limits = null, Action<long, long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        // Mapped input: the writer streams straight from the page cache, so converting never holds a copy of the weights.
        limits ??= ReaderLimits.Default with { WeightPlacement = WeightPlacement.Mapped };
        using var graph = ModelReader.Load(input, limits);
        Save(graph, output, progress);
    }

    /// <summary>Writes <paramref name="graph"/> in the format named by <paramref name="output"/>'s extension (.fim or .onnx).</summary>
    public static void Save(ModelGraph graph, string output, Action<long, long>? progress = null)
    {
        string ext = Path.GetExtension(output).ToLowerInvariant();
        switch (ext)
        {
            case ".fim":
                FimWriter.Save(graph, output, new FimWriteOptions { Progress = progress });
                break;
            case ".onnx":
                OnnxWriter.Save(graph, output, graph.WeightBytes > (1L << 30) ? new OnnxWriteOptions { ExternalDataThreshold = DefaultExternalThreshold } : null);
                break;
            default:
                throw new ArgumentException($"cannot write '{output}': the output extension must be .fim or .onnx", nameof(output));
        }
    }
}
