using System.CommandLine;
using FastInfer.Cli.Output;
using FastInfer.Formats;
using FastInfer.Formats.Fim;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;

namespace FastInfer.Cli.Commands;

/// <summary>
/// <c>fastinfer convert MODEL -o OUT</c>: reads any supported format and writes the format named by OUT's extension.
/// Writers are looked up in <see cref="Writers"/>: ONNX and FastInfer's <c>.fim</c> (both writers live in Formats).
/// </summary>
public static class ConvertCommand
{
    /// <summary>Writers by lower-case output extension. Extend it to add formats.</summary>
    public static Dictionary<string, Action<ModelGraph, string>> Writers { get; } = new(StringComparer.Ordinal)
    {
        // Weights over 1 MiB go to an external data file once the model would not fit protobuf's 2 GB limit.
        [".onnx"] = (graph, path) => OnnxWriter.Save(graph, path,
            graph.WeightBytes > (1L << 31) - (64L << 20) ? new OnnxWriteOptions { ExternalDataThreshold = 1 << 20 } : null),
        // FastInfer's native format (Formats/Fim): aligned weights that load mapped, no size limit.
        [".fim"] = (graph, path) => FimWriter.Save(graph, path),
    };

    internal static Command Create(CliContext ctx)
    {
        var model = CommonOptions.Model();
        var output = new Option<string>("--output", "-o") { Description = "Output file; its extension picks the format (.onnx, .fim)", Required = true };
        var json = CommonOptions.Json();
        var cmd = new Command("convert", "Convert a model (Keras .h5/.keras, ONNX, .fim) to ONNX or .fim") { model, output, json };
        cmd.SetAction(p => Execute(ctx, p.GetValue(model)!, p.GetValue(output)!, p.GetValue(json)));
        return cmd;
    }

    public static int Execute(CliContext ctx, string path, string output, bool json)
    {
        CommonOptions.RequireFile(path);
        string ext = Path.GetExtension(output).ToLowerInvariant();
        if (!Writers.TryGetValue(ext, out var write))
            throw new CliException(ext == ".fim"
                ? "writing .fim is not available in this build (register a writer in ConvertCommand.Writers)"
                : $"unknown output format '{ext}' (supported: {string.Join(", ", Writers.Keys)})");
        if (Path.GetFullPath(output) == Path.GetFullPath(path)) throw new CliException("the output would overwrite the model; choose another path");
        using var graph = ModelReader.Load(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (dir is not null) Directory.CreateDirectory(dir);
        write(graph, output);
        var r = new ConvertResult { Model = path, Output = output, Format = ext.TrimStart('.'), Bytes = new FileInfo(output).Length, NodeCount = graph.Nodes.Count };
        if (json) Json.Write(ctx, r, CliJsonContext.Default.ConvertResult);
        else ctx.Line($"{Path.GetFileName(path)} ({graph.SourceFormat}, {graph.Nodes.Count} nodes) -> {output} ({Tables.Bytes(r.Bytes)})");
        return ExitCodes.Success;
    }
}
