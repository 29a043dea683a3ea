using System.CommandLine;
using System.Diagnostics;
using FastInfer.Cli.Engines;
using FastInfer.Cli.Inputs;
using FastInfer.Cli.Output;
using FastInfer.Runtime;

namespace FastInfer.Cli.Commands;

/// <summary>
/// Hidden <c>__cold-run MODEL --engine fastinfer|ort --threads N</c>: what <c>bench --cold</c> starts in a fresh process.
/// Loads the model, plans, runs once on seeded random inputs, and prints the time that took as JSON.
/// </summary>
internal static class ColdRunCommand
{
    public const string Name = "__cold-run";

    public static Command Create(CliContext ctx)
    {
        var model = CommonOptions.Model();
        var engine = new Option<string>("--engine") { DefaultValueFactory = _ => "fastinfer" };
        var threads = CommonOptions.Threads();
        var weights = CommonOptions.Weights();
        var cmd = new Command(Name, "Internal: one cold run for bench --cold") { model, engine, threads, weights };
        cmd.Hidden = true;
        cmd.SetAction(p =>
        {
            string path = p.GetValue(model)!;
            int t = CommonOptions.ThreadCount(p.GetValue(threads));
            string e = p.GetValue(engine) ?? "fastinfer";
            var sw = Stopwatch.StartNew();
            double loadMs;
            if (e == "ort")
            {
                using var ort = OrtEngine.Create(path, t);
                loadMs = sw.Elapsed.TotalMilliseconds;
                var values = InputLoader.Load(ort.Inputs, [], new ImageOptions(), new Dictionary<string, int>(), CheckCommand.RandomSeed);
                ort.Run(values.Select(v => (v.Info.Name, v.Array)).ToList());
            }
            else
            {
                var options = CommonOptions.SessionOptions(t, new Dictionary<string, int>());
                CommonOptions.ApplyWeights(options, p.GetValue(weights));
                using var session = CommonOptions.LoadSession(path, options);
                loadMs = sw.Elapsed.TotalMilliseconds;
                var values = InputLoader.Load(session.Inputs, [], new ImageOptions(), new Dictionary<string, int>(), CheckCommand.RandomSeed);
                var tensors = values.Select(v => new NamedTensor(v.Info.Name, TensorConvert.ToTensor(v.Array))).ToArray();
                foreach (var o in session.Run(tensors.AsSpan())) o.Tensor.Dispose();
                foreach (var x in tensors) x.Tensor.Dispose();
            }
            double ms = sw.Elapsed.TotalMilliseconds;
            Json.Write(ctx, new ColdRunReport { Engine = e, FirstResultMs = ms, LoadMs = loadMs }, CliJsonContext.Default.ColdRunReport);
            return ExitCodes.Success;
        });
        return cmd;
    }
}

/// <summary><c>bench --cold</c>: a fresh process per run, FastInfer and ONNX Runtime (and, when FASTINFER_AOT_BIN names it,
/// the NativeAOT FastInfer) taking turns.</summary>
internal static class ColdBench
{
    public static int Execute(CliContext ctx, BenchCommand.Settings s)
    {
        CommonOptions.RequireFile(s.Model);
        if (s.ColdRuns < 1 || s.ColdRuns > 1000) throw new CliException("--runs must be between 1 and 1000");
        var engines = s.CompareOrt || OrtEngine.IsAvailable ? new List<string> { "fastinfer", "ort" } : ["fastinfer"];
        // A NativeAOT build (what an edge device runs) starts without a JIT; when FASTINFER_AOT_BIN names one, it runs too.
        string? aot = Environment.GetEnvironmentVariable(AotVariable);
        if (!string.IsNullOrEmpty(aot))
        {
            if (!File.Exists(aot)) throw new CliException($"{AotVariable} names '{aot}', which does not exist");
            engines.Add("fastinfer-aot");
        }
        // ONNX Runtime reads ONNX only: for a .fim or Keras model it gets the same graph written as ONNX once, so the
        // comparison is FastInfer from its own format against ONNX Runtime from ONNX.
        string ortModel = s.Model;
        string? tempOnnx = null;
        if (engines.Contains("ort") && FastInfer.Formats.ModelReader.DetectFormat(s.Model) != "onnx")
        {
            using var graph = FastInfer.Formats.ModelReader.Load(s.Model,
                FastInfer.Formats.ReaderLimits.Default with { WeightPlacement = FastInfer.Formats.WeightPlacement.Mapped });
            tempOnnx = Path.Combine(Path.GetTempPath(), $"fastinfer-cold-{Environment.ProcessId}.onnx");
            FastInfer.Formats.Onnx.OnnxWriter.Save(graph, tempOnnx);
            ortModel = tempOnnx;
        }
        try { return Measure(ctx, s, engines.ToArray(), ortModel, aot); }
        finally { if (tempOnnx is not null) File.Delete(tempOnnx); }
    }

    /// <summary>Environment variable naming a NativeAOT fastinfer that <c>bench --cold</c> also times.</summary>
    public const string AotVariable = "FASTINFER_AOT_BIN";

    private static int Measure(CliContext ctx, BenchCommand.Settings s, string[] engines, string ortModel, string? aot)
    {
        var first = engines.ToDictionary(e => e, _ => new List<double>());
        var wall = engines.ToDictionary(e => e, _ => new List<double>());
        for (int r = 0; r < s.ColdRuns; r++)
        {
            foreach (var engine in r % 2 == 0 ? engines : engines.Reverse())
            {
                var (report, ms) = engine == "fastinfer-aot"
                    ? Launch(s.Model, "fastinfer", s.Threads, s.Weights, aot)
                    : Launch(engine == "ort" ? ortModel : s.Model, engine, s.Threads, s.Weights);
                first[engine].Add(report);
                wall[engine].Add(ms);
            }
        }
        ColdStats Stats(string e) => new()
        {
            Runs = s.ColdRuns, FirstResultMs = Median(first[e]), ProcessMs = Median(wall[e]),
            FirstResultMsEach = first[e].ToArray(), ProcessMsEach = wall[e].ToArray(),
        };
        var result = new BenchResult { Model = s.Model, Threads = s.Threads, Batch = 1, ColdFastinfer = Stats("fastinfer") };
        if (engines.Contains("ort"))
        {
            result.ColdOnnxruntime = Stats("ort");
            result.ColdRatio = result.ColdFastinfer.FirstResultMs / result.ColdOnnxruntime.FirstResultMs;
        }
        if (engines.Contains("fastinfer-aot"))
        {
            result.ColdFastinferAot = Stats("fastinfer-aot");
            if (result.ColdOnnxruntime is { } ortStats) result.ColdRatioAot = result.ColdFastinferAot.FirstResultMs / ortStats.FirstResultMs;
        }
        if (s.Json) { Json.Write(ctx, result, CliJsonContext.Default.BenchResult); return ExitCodes.Success; }
        ctx.Line($"{Path.GetFileName(s.Model)}: cold start, {s.ColdRuns} fresh process(es) per engine, {s.Threads} thread(s), {s.Weights} weights (medians)");
        var t = Tables.Create("engine", "first result ms (load+plan+run)", "process ms (start to exit)");
        t.Row("FastInfer", result.ColdFastinfer.FirstResultMs, result.ColdFastinfer.ProcessMs);
        if (result.ColdFastinferAot is { } a) t.Row("FastInfer (NativeAOT)", a.FirstResultMs, a.ProcessMs);
        if (result.ColdOnnxruntime is { } o) t.Row("ONNX Runtime", o.FirstResultMs, o.ProcessMs);
        ctx.Console.Write(t);
        if (result.ColdRatio is double ratio) ctx.Line($"cold ratio = fastinfer / ort (first result) = {ratio:0.000}");
        if (result.ColdRatioAot is double ratioAot) ctx.Line($"cold ratio = fastinfer NativeAOT / ort (first result) = {ratioAot:0.000}");
        return ExitCodes.Success;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Starts this program again (the apphost, or <c>dotnet fastinfer.dll</c>) with the hidden subcommand.</summary>
    private static (double FirstResultMs, double ProcessMs) Launch(string model, string engine, int threads, string weights, string? program = null)
    {
        string exe = program ?? Environment.ProcessPath ?? throw new CliException("cannot find this program's executable to start a fresh process");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string name = Path.GetFileNameWithoutExtension(exe);
        if (name.Equals("dotnet", StringComparison.OrdinalIgnoreCase) || name.StartsWith("testhost", StringComparison.OrdinalIgnoreCase))
        {
            psi.FileName = name.Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? exe : "dotnet";
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fastinfer.dll"));
        }
        foreach (var a in new[] { ColdRunCommand.Name, model, "--engine", engine, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--weights", weights })
            psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new CliException($"could not start {exe}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10))) { p.Kill(true); throw new CliException($"the cold {engine} run did not finish in 10 minutes"); }
        double ms = sw.Elapsed.TotalMilliseconds;
        if (p.ExitCode != 0) throw new CliException($"the cold {engine} run failed (exit {p.ExitCode}): {CommandGuard.OneLine(stderr.Result)}");
        var report = System.Text.Json.JsonSerializer.Deserialize(stdout.Result, CliJsonContext.Default.ColdRunReport)
            ?? throw new CliException($"the cold {engine} run printed no result");
        return (report.FirstResultMs, ms);
    }
}
