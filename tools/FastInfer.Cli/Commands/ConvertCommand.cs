using System.CommandLine;
using FastInfer.Cli.Output;
using FastInfer.Formats;
using FastInfer.Formats.Fim;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime.Prepacking;
using Spectre.Console;

namespace FastInfer.Cli.Commands;

/// <summary>
/// <c>fastinfer convert MODEL -o OUT [--prepack]</c>: reads any supported format and writes the format named by OUT's
/// extension. Writers are looked up in <see cref="Writers"/>: ONNX and FastInfer's <c>.fim</c> (both writers live in
/// Formats). <c>--prepack</c> also stores the weights packed for this machine's kernels (Runtime/Prepacking).
/// A progress bar follows the weight bytes written for large models (not with --json or when output is redirected).
/// </summary>
public static class ConvertCommand
{
    /// <summary>Writers by lower-case output extension, given (graph, path, progress callback). Extend it to add formats.</summary>
    public static Dictionary<string, Action<ModelGraph, string, Action<long, long>?>> Writers { get; } = new(StringComparer.Ordinal)
    {
        // Weights over 1 MiB go to an external data file once the model would not fit protobuf's 2 GB limit.
        [".onnx"] = (graph, path, _) => OnnxWriter.Save(graph, path,
            graph.WeightBytes > (1L << 31) - (64L << 20) ? new OnnxWriteOptions { ExternalDataThreshold = 1 << 20 } : null),
        // FastInfer's native format (Formats/Fim): aligned weights that load mapped, no size limit.
        [".fim"] = (graph, path, progress) => FimWriter.Save(graph, path, new FimWriteOptions { Progress = progress }),
    };

    /// <summary>Models with more weight bytes than this get a progress bar.</summary>
    private const long ProgressBytes = 64L << 20;

    internal static Command Create(CliContext ctx)
    {
        var model = CommonOptions.Model();
        var output = new Option<string>("--output", "-o") { Description = "Output file; its extension picks the format (.onnx, .fim)", Required = true };
        var prepack = new Option<bool>("--prepack")
        {
            Description = "(.fim only) Also store the weights packed for this machine's kernels: a session on the same ISA tier uses them in place and skips packing at load; any other packs from the plain weights",
        };
        var json = CommonOptions.Json();
        var cmd = new Command("convert", "Convert a model (Keras .h5/.keras, ONNX, .fim) to ONNX or .fim") { model, output, prepack, json };
        cmd.SetAction(p => Execute(ctx, p.GetValue(model)!, p.GetValue(output)!, p.GetValue(json), p.GetValue(prepack)));
        return cmd;
    }

    public static int Execute(CliContext ctx, string path, string output, bool json, bool prepack = false)
    {
        CommonOptions.RequireFile(path);
        string ext = Path.GetExtension(output).ToLowerInvariant();
        if (!Writers.TryGetValue(ext, out var write))
            throw new CliException(ext == ".fim"
                ? "writing .fim is not available in this build (register a writer in ConvertCommand.Writers)"
                : $"unknown output format '{ext}' (supported: {string.Join(", ", Writers.Keys)})");
        if (prepack && ext != ".fim") throw new CliException($"--prepack needs a .fim output (packed weights have no place in {ext})");
        if (Path.GetFullPath(output) == Path.GetFullPath(path)) throw new CliException("the output would overwrite the model; choose another path");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (dir is not null) Directory.CreateDirectory(dir);

        var r = new ConvertResult { Model = path, Output = output, Format = ext.TrimStart('.') };
        if (prepack)
        {
            var summary = WithProgress(ctx, json, new FileInfo(path).Length, progress => PrepackedFimWriter.Write(path, output, progress: progress));
            r.PrepackedOperands = summary.Operands;
            r.PrepackedBytes = summary.PackedBytes;
            r.PackedLayout = summary.Fingerprint;
            r.NodeCount = summary.Nodes;
        }
        else
        {
            using var graph = ModelReader.Load(path);
            WithProgress(ctx, json, graph.WeightBytes, progress => { write(graph, output, progress); return 0; });
            r.NodeCount = graph.Nodes.Count;
        }
        r.Bytes = new FileInfo(output).Length;
        if (json) Json.Write(ctx, r, CliJsonContext.Default.ConvertResult);
        else
        {
            ctx.Line($"{Path.GetFileName(path)} ({r.NodeCount} nodes) -> {output} ({Tables.Bytes(r.Bytes)})");
            if (prepack) ctx.Line($"pre-packed: {r.PrepackedOperands} operands, {Tables.Bytes(r.PrepackedBytes ?? 0)}, layout {r.PackedLayout}");
        }
        return ExitCodes.Success;
    }

    /// <summary>Runs a write with a progress bar over its weight bytes when the model is large and the console interactive.</summary>
    private static T WithProgress<T>(CliContext ctx, bool json, long bytes, Func<Action<long, long>?, T> write)
    {
        if (json || !ctx.Interactive || bytes < ProgressBytes) return write(null);
        T result = default!;
        ctx.Console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(p =>
            {
                var task = p.AddTask("writing weights", maxValue: 1);
                result = write((done, total) => { task.MaxValue = Math.Max(1, total); task.Value = done; });
            });
        return result;
    }
}
