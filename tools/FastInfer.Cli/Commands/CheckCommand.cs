using System.CommandLine;
using FastInfer.Cli.Engines;
using FastInfer.Cli.Inputs;
using FastInfer.Cli.Output;
using FastInfer.Formats;
using FastInfer.Formats.Npy;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime;

namespace FastInfer.Cli.Commands;

/// <summary>
/// <c>fastinfer check MODEL [--input NAME=FILE]... [--dim NAME=N]... [--rtol R] [--atol A] [--reference-output NAME=FILE.npy]... [--json]</c>:
/// FastInfer against ONNX Runtime on the same inputs (Keras models go to ONNX Runtime through the ONNX writer, in memory),
/// or against saved outputs. Exit 0 when every output is within tolerance, 1 when one is not, 2 when something cannot be read or run.
/// </summary>
internal static class CheckCommand
{
    public const int RandomSeed = 1234;

    public static Command Create(CliContext ctx)
    {
        var model = CommonOptions.Model();
        var inputs = CommonOptions.Inputs();
        var dims = CommonOptions.Dims();
        var rtol = new Option<double>("--rtol") { Description = "Relative tolerance", DefaultValueFactory = _ => 1e-3 };
        var atol = new Option<double>("--atol") { Description = "Absolute tolerance", DefaultValueFactory = _ => 1e-4 };
        var refs = new Option<string[]>("--reference-output", "-r")
        {
            Description = "NAME=FILE.npy: compare against saved outputs instead of ONNX Runtime; repeatable",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var scale = CommonOptions.Scale();
        var gray = CommonOptions.Grayscale();
        var device = DeviceOptions.Device();
        var accelerator = DeviceOptions.Accelerator();
        var cmd = new Command("check", "Compare FastInfer's outputs with ONNX Runtime's (or saved outputs) on the same inputs")
            { model, inputs, dims, rtol, atol, refs, threads, json, scale, gray, device, accelerator };
        cmd.SetAction(p => Execute(ctx, p.GetValue(model)!, p.GetValue(inputs) ?? [], NameValue.ParseDims(p.GetValue(dims) ?? []),
            p.GetValue(rtol), p.GetValue(atol), p.GetValue(refs) ?? [], CommonOptions.ThreadCount(p.GetValue(threads)),
            CommonOptions.ImageOptions(p, scale, gray), p.GetValue(json), DeviceOptions.Parse(p, device, accelerator)));
        return cmd;
    }

    public static int Execute(CliContext ctx, string path, string[] inputSpecs, Dictionary<string, int> dims, double rtol, double atol,
        string[] referenceSpecs, int threads, ImageOptions image, bool json, DeviceChoice? device = null)
    {
        if (rtol < 0 || atol < 0 || double.IsNaN(rtol) || double.IsNaN(atol)) throw new CliException("--rtol and --atol must be non-negative");
        CommonOptions.RequireFile(path);
        var options = CommonOptions.SessionOptions(threads, dims, device);
        var graph = ModelReader.Load(path, options.ReaderLimits);
        // The session rewrites its graph, so a graph from another format (Keras) is written as ONNX for ONNX Runtime
        // first (the converter in Formats). FastInfer's session is created before ONNX Runtime's so that unsupported
        // operators are reported by FastInfer, all of them.
        byte[]? onnxBytes;
        try { onnxBytes = referenceSpecs.Length == 0 && graph.SourceFormat != "onnx" ? OnnxWriter.ToBytes(graph) : null; }
        catch { graph.Dispose(); throw; }
        using var session = InferenceSession.Create(graph, options);
        using var ort = referenceSpecs.Length > 0 ? null : onnxBytes is null ? OrtEngine.Create(path, threads) : OrtEngine.Create(onnxBytes, threads);

        var values = InputLoader.Load(session.Inputs, inputSpecs, image, dims, RandomSeed);
        var tensors = values.Select(v => new NamedTensor(v.Info.Name, TensorConvert.ToTensor(v.Array))).ToArray();
        var ours = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            var outputs = session.Run(tensors.AsSpan());
            foreach (var o in outputs) { ours[o.Name] = TensorConvert.ToArray(o.Tensor); o.Tensor.Dispose(); }
        }
        finally { foreach (var t in tensors) t.Tensor.Dispose(); }

        var reference = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        if (ort is not null)
        {
            foreach (var (name, array) in ort.Run(values.Select(v => (v.Info.Name, v.Array)).ToList())) reference[name] = array;
        }
        else
        {
            foreach (var spec in referenceSpecs)
            {
                var (name, file) = NameValue.Parse(spec, "--reference-output");
                if (name is null)
                {
                    if (ours.Count != 1) throw new CliException($"--reference-output '{spec}': the model has {ours.Count} outputs, so name one as NAME=FILE.npy");
                    name = ours.Keys.First();
                }
                if (!ours.ContainsKey(name))
                    throw new CliException($"--reference-output: the model has no output named '{name}'; its outputs are {string.Join(", ", ours.Keys.Select(k => "'" + k + "'"))}");
                if (!File.Exists(file)) throw new FileNotFoundException($"reference file not found: {file}", file);
                reference[name] = NpyReader.Read(file);
            }
        }

        var result = new CheckResult
        {
            Model = path, Reference = ort is not null ? "onnxruntime" : "reference_files", Rtol = rtol, Atol = atol,
            Inputs = values.Select(v => InspectCommand.Describe(v.Info)).ToList(),
            InputSources = values.ToDictionary(v => v.Info.Name, v => v.Source),
        };
        foreach (var (name, mine) in ours)
        {
            if (!reference.TryGetValue(name, out var theirs))
            {
                if (ort is not null) throw new CliException($"ONNX Runtime produced no output named '{name}'");
                continue; // only the outputs given with --reference-output are compared
            }
            result.Outputs.Add(Compare(name, mine, theirs, rtol, atol));
        }
        result.Passed = result.Outputs.All(o => o.WithinTolerance);

        if (json) Json.Write(ctx, result, CliJsonContext.Default.CheckResult);
        else Print(ctx, result);
        return result.Passed ? ExitCodes.Success : ExitCodes.Mismatch;
    }

    /// <summary>
    /// Element-wise |a − b| ≤ atol + rtol·|b| (NumPy's allclose, b the reference). Reports the largest absolute
    /// difference and the largest relative one (|a − b| / |b| over elements where b ≠ 0). NaN matches only NaN.
    /// </summary>
    public static OutputComparison Compare(string name, NpyArray mine, NpyArray reference, double rtol, double atol)
    {
        var c = new OutputComparison { Name = name, Shape = mine.Shape, ReferenceShape = reference.Shape };
        if (!mine.Shape.SequenceEqual(reference.Shape))
        {
            c.MaxAbsDiff = c.MaxRelDiff = double.PositiveInfinity;
            c.MismatchedElements = Math.Max(mine.ElementCount, reference.ElementCount);
            return c;
        }
        double[] a = TensorConvert.ToDoubles(mine), b = TensorConvert.ToDoubles(reference);
        for (int i = 0; i < a.Length; i++)
        {
            bool ok;
            if (double.IsNaN(a[i]) || double.IsNaN(b[i])) ok = double.IsNaN(a[i]) && double.IsNaN(b[i]);
            else if (double.IsInfinity(a[i]) || double.IsInfinity(b[i])) ok = a[i] == b[i];
            else
            {
                double diff = Math.Abs(a[i] - b[i]);
                c.MaxAbsDiff = Math.Max(c.MaxAbsDiff, diff);
                if (b[i] != 0) c.MaxRelDiff = Math.Max(c.MaxRelDiff, diff / Math.Abs(b[i]));
                ok = diff <= atol + rtol * Math.Abs(b[i]);
            }
            if (!ok)
            {
                c.MismatchedElements++;
                if (double.IsNaN(a[i]) != double.IsNaN(b[i]) || double.IsInfinity(a[i]) || double.IsInfinity(b[i]))
                    c.MaxAbsDiff = c.MaxRelDiff = double.PositiveInfinity;
            }
        }
        c.WithinTolerance = c.MismatchedElements == 0;
        return c;
    }

    private static void Print(CliContext ctx, CheckResult r)
    {
        ctx.Line($"{Path.GetFileName(r.Model)}: FastInfer vs {(r.Reference == "onnxruntime" ? "ONNX Runtime" : "reference files")}, rtol {r.Rtol:g3}, atol {r.Atol:g3}");
        foreach (var (name, source) in r.InputSources) ctx.Line($"  input {name}: {source}");
        var table = Tables.Create("output", "shape", "max abs diff", "max rel diff", "mismatched", "result");
        foreach (var o in r.Outputs)
            table.Row(o.Name, o.Shape, o.MaxAbsDiff, o.MaxRelDiff, o.MismatchedElements, o.WithinTolerance ? "ok" : "MISMATCH");
        ctx.Console.Write(table);
        ctx.Line(r.Passed ? "PASS: every output is within tolerance" : "FAIL: outputs differ beyond tolerance");
    }
}
