using System.CommandLine;
using FastInfer.Cli.Inputs;
using FastInfer.Cli.Output;
using FastInfer.Formats;
using FastInfer.Ir;
using FastInfer.Runtime;

namespace FastInfer.Cli.Commands;

/// <summary>
/// <c>fastinfer inspect MODEL [--json]</c>: inputs, outputs, op histogram, parameters, weight bytes; then, if every
/// operator is supported, the optimized graph's pass statistics and the planned arena size. Unsupported operators are
/// listed (all of them), not thrown.
/// </summary>
internal static class InspectCommand
{
    public static Command Create(CliContext ctx)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var dims = CommonOptions.Dims();
        var device = DeviceOptions.Device();
        var accelerator = DeviceOptions.Accelerator();
        var cmd = new Command("inspect", "Describe a model: inputs, outputs, operators, weights, planned memory, unsupported ops; with --device, its device partitions")
            { model, json, dims, device, accelerator };
        cmd.SetAction(p => Execute(ctx, p.GetValue(model)!, NameValue.ParseDims(p.GetValue(dims) ?? []), p.GetValue(json),
            DeviceOptions.Parse(p, device, accelerator)));
        return cmd;
    }

    public static ValueDescription Describe(ValueInfo v) => new()
    {
        Name = v.Name, Dtype = v.ElementType.ToName(), Shape = v.Shape?.Select(d => d.ToString()).ToArray(),
    };

    public static int Execute(CliContext ctx, string path, Dictionary<string, int> dims, bool json, DeviceChoice? device = null)
    {
        CommonOptions.RequireFile(path);
        var options = CommonOptions.SessionOptions(1, dims, device);
        var graph = ModelReader.Load(path, options.ReaderLimits);
        var r = new InspectResult
        {
            Model = path, Format = graph.SourceFormat, IrVersion = graph.IrVersion, Opset = graph.Opset,
            Producer = (graph.ProducerName + " " + graph.ProducerVersion).Trim(),
            Inputs = graph.Inputs.Select(Describe).ToList(), Outputs = graph.Outputs.Select(Describe).ToList(),
            NodeCount = graph.Nodes.Count, ParameterCount = graph.ParameterCount, WeightBytes = graph.WeightBytes,
            PrepackedOperands = graph.Prepacked?.Blobs.Count, PrepackedBytes = graph.Prepacked?.ByteLength, PrepackedLayout = graph.Prepacked?.Fingerprint,
        };
        foreach (var g in graph.Nodes.GroupBy(n => n.Domain is "" or "ai.onnx" ? n.OpType : n.Domain + "." + n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            r.OpHistogram[g.Key] = g.Count();

        InferenceSession? session = null;
        try
        {
            session = InferenceSession.Create(graph, options); // takes ownership of the graph
            r.OptimizedNodeCount = session.Graph.Nodes.Count;
            foreach (var (pass, count) in session.Statistics.Counts) r.GraphPasses[pass] = count;
            var plan = session.DescribePlan();
            r.ArenaBytes = plan.ArenaBytes;
            r.PlanSteps = plan.StepCount;
            r.FoldedNodes = plan.FoldedNodes;
            r.PackedFromFile = session.PackedOperands.FromFile;
            r.PackedAtLoad = session.PackedOperands.PackedAtLoad;
            if (session.DescribeDevicePlan() is { } devicePlan) r.DevicePlan = DevicePlanJson.From(devicePlan);
        }
        catch (UnsupportedOperatorException e) { r.UnsupportedOps.AddRange(e.Unsupported); }
        catch (Exception e) when (e is InvalidModelException or ArgumentException or ModelFormatException or OverflowException)
        {
            r.PlanError = CommandGuard.OneLine(e.Message);
        }
        finally { session?.Dispose(); }

        if (json) { Json.Write(ctx, r, CliJsonContext.Default.InspectResult); return ExitCodes.Success; }
        ctx.Line($"{Path.GetFileName(path)}: {r.Format}, {(r.Producer.Length > 0 ? r.Producer + ", " : "")}IR {r.IrVersion}, opset {r.Opset}");
        var io = Tables.Create("", "name", "dtype", "shape");
        foreach (var i in r.Inputs) io.Row("input", i.Name, i.Dtype, i.Shape is null ? "?" : "[" + string.Join(",", i.Shape) + "]");
        foreach (var o in r.Outputs) io.Row("output", o.Name, o.Dtype, o.Shape is null ? "?" : "[" + string.Join(",", o.Shape) + "]");
        ctx.Console.Write(io);
        var ops = Tables.Create("op", "count");
        foreach (var (op, n) in r.OpHistogram) ops.Row(op, n);
        ctx.Console.Write(ops);
        var facts = Tables.Create("fact", "value");
        facts.Row("nodes", r.NodeCount);
        facts.Row("nodes after graph passes", r.OptimizedNodeCount);
        facts.Row("parameters", r.ParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        facts.Row("weight bytes", $"{r.WeightBytes:N0} ({Tables.Bytes(r.WeightBytes)})");
        if (r.ArenaBytes is long arena) facts.Row("planned arena bytes", $"{arena:N0} ({Tables.Bytes(arena)})");
        if (r.PrepackedOperands is int stored)
            facts.Row("pre-packed operands in the file", $"{stored} ({Tables.Bytes(r.PrepackedBytes ?? 0)}), layout {r.PrepackedLayout}");
        if (r.PackedFromFile is int used) facts.Row("packed operands: from the file / packed at load", $"{used} / {r.PackedAtLoad}");
        if (r.PlanSteps is int steps) facts.Row("plan steps (folded nodes)", $"{steps} ({r.FoldedNodes})");
        foreach (var (pass, n) in r.GraphPasses) facts.Row("pass: " + pass, n);
        if (r.PlanError is not null) facts.Row("plan error", r.PlanError);
        ctx.Console.Write(facts);
        if (r.DevicePlan is { } d) ctx.Out.Write(d.Text);
        if (r.UnsupportedOps.Count > 0)
            ctx.Line($"unsupported operators ({r.UnsupportedOps.Count}): {string.Join(", ", r.UnsupportedOps)}");
        else ctx.Line("every operator is supported");
        return ExitCodes.Success;
    }
}
