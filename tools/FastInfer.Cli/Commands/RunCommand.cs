using System.CommandLine;
using System.Diagnostics;
using FastInfer.Cli.Inputs;
using FastInfer.Cli.Output;
using FastInfer.Formats.Npy;
using FastInfer.Runtime;

namespace FastInfer.Cli.Commands;

/// <summary><c>fastinfer run [MODEL] [--input NAME=FILE]... [--output-dir DIR] [--threads N] [--json]</c>.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext ctx)
    {
        var model = new Argument<string?>("model") { Description = "Model file; omit to run the embedded default (ResNet-18 on the sample photos)", Arity = ArgumentArity.ZeroOrOne };
        var inputs = CommonOptions.Inputs();
        var outDir = new Option<string?>("--output-dir", "-o") { Description = "Write each output as DIR/<output name>.npy" };
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var dims = CommonOptions.Dims();
        var scale = CommonOptions.Scale();
        var gray = CommonOptions.Grayscale();
        var device = DeviceOptions.Device();
        var accelerator = DeviceOptions.Accelerator();
        var cmd = new Command("run", "Run a model on inputs from files and write its outputs as .npy") { model, inputs, outDir, threads, json, dims, scale, gray, device, accelerator };
        cmd.SetAction(p =>
        {
            int t = CommonOptions.ThreadCount(p.GetValue(threads));
            string? path = p.GetValue(model);
            if (path is null) return DefaultModel.Run(ctx, t, p.GetValue(json));
            return Execute(ctx, path, p.GetValue(inputs) ?? [], p.GetValue(outDir), t, NameValue.ParseDims(p.GetValue(dims) ?? []),
                CommonOptions.ImageOptions(p, scale, gray), p.GetValue(json), DeviceOptions.Parse(p, device, accelerator));
        });
        return cmd;
    }

    public static int Execute(CliContext ctx, string path, string[] inputSpecs, string? outputDir, int threads,
        Dictionary<string, int> dims, ImageOptions image, bool json, DeviceChoice? device = null)
    {
        using var session = CommonOptions.LoadSession(path, CommonOptions.SessionOptions(threads, dims, device));
        var values = InputLoader.Load(session.Inputs, inputSpecs, image, dims, randomSeed: null);
        var tensors = values.Select(v => new NamedTensor(v.Info.Name, TensorConvert.ToTensor(v.Array))).ToArray();
        try
        {
            var sw = Stopwatch.StartNew();
            var outputs = session.Run(tensors.AsSpan());
            double first = sw.Elapsed.TotalMilliseconds;
            // A second run over the same plan shows the steady-state latency (the first includes planning).
            var outBuffers = outputs;
            sw.Restart();
            session.Run(tensors, outBuffers);
            double latency = sw.Elapsed.TotalMilliseconds;

            var result = new RunResult { Model = path, Threads = threads, FirstRunMs = first, LatencyMs = latency, Device = session.DeviceName };
            foreach (var v in values) result.Inputs.Add(Summaries.Of(v.Info.Name, v.Array, v.Source));
            if (outputDir is not null) Directory.CreateDirectory(outputDir);
            foreach (var o in outputs)
            {
                var array = TensorConvert.ToArray(o.Tensor);
                string? file = null;
                if (outputDir is not null)
                {
                    file = Path.Combine(outputDir, SafeFileName(o.Name) + ".npy");
                    NpyWriter.Write(file, array);
                }
                result.Outputs.Add(Summaries.Of(o.Name, array, file));
                o.Tensor.Dispose();
            }

            if (json) Json.Write(ctx, result, CliJsonContext.Default.RunResult);
            else Print(ctx, result);
            return ExitCodes.Success;
        }
        finally { foreach (var t in tensors) t.Tensor.Dispose(); }
    }

    /// <summary>Output names can hold '/', ':' and the like; keep letters, digits, '-', '_' and '.'.</summary>
    public static string SafeFileName(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        string s = new(chars);
        return s.Length == 0 || s.Trim('.').Length == 0 ? "output" : s;
    }

    private static void Print(CliContext ctx, RunResult r)
    {
        ctx.Line($"{Path.GetFileName(r.Model)}: first run {r.FirstRunMs:0.###} ms (includes planning), then {r.LatencyMs:0.###} ms, {r.Threads} thread(s), on {r.Device}");
        var table = Tables.Create("", "name", "dtype", "shape", "min", "max", "mean", "argmax", "file");
        foreach (var i in r.Inputs) table.Row("input", i.Name, i.Dtype, i.Shape, i.Min, i.Max, i.Mean, null, i.File);
        foreach (var o in r.Outputs) table.Row("output", o.Name, o.Dtype, o.Shape, o.Min, o.Max, o.Mean, o.Argmax, o.File);
        ctx.Console.Write(table);
    }
}

/// <summary>Min, max, mean and argmax of an array, for printing.</summary>
internal static class Summaries
{
    public static TensorSummary Of(string name, NpyArray array, string? file)
    {
        var s = new TensorSummary { Name = name, Dtype = FastInfer.Ir.DataTypeExtensions.ToName(array.ElementType), Shape = array.Shape, File = file };
        if (array.ElementCount == 0) return s;
        double[] v;
        try { v = TensorConvert.ToDoubles(array); }
        catch (CliException) { return s; }
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        long arg = 0;
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] < min) min = v[i];
            if (v[i] > max) { max = v[i]; arg = i; }
            sum += v[i];
        }
        s.Min = min; s.Max = max; s.Mean = sum / v.Length;
        if (v.Length <= 100_000) s.Argmax = arg;
        return s;
    }
}
