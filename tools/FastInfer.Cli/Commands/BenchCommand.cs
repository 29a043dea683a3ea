using System.CommandLine;
using System.Diagnostics;
using FastInfer.Cli.Engines;
using FastInfer.Cli.Inputs;
using FastInfer.Cli.Measurement;
using FastInfer.Cli.Output;
using FastInfer.Ir;
using FastInfer.Kernels.Platform;
using FastInfer.Runtime;
using Spectre.Console;

namespace FastInfer.Cli.Commands;

/// <summary>
/// <c>fastinfer bench MODEL [--threads N] [--batch B] [--warmup W] [--iterations N] [--compare ort] [--json] [--soak SECONDS] [--cold [--runs N]]</c>.
/// FastInfer runs over caller-provided tensors (the zero-allocation path); with <c>--compare ort</c> ONNX Runtime runs the
/// same inputs in the same process, interleaved in blocks of runs (order alternating), so both see the same machine state.
/// </summary>
internal static class BenchCommand
{
    public sealed record Settings(string Model, int Threads, int Batch, int Warmup, int Iterations, bool CompareOrt, bool Json,
        double? SoakSeconds, bool Cold, int ColdRuns, Dictionary<string, int> Dims, string[] Inputs)
    {
        /// <summary>Where FastInfer's session runs (<c>--device</c>); the CPU by default.</summary>
        public DeviceChoice Device { get; init; } = DeviceChoice.Cpu;
        /// <summary><c>--weights</c>: pinned (default) or mapped.</summary>
        public string Weights { get; init; } = "pinned";
    }

    public static Command Create(CliContext ctx)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var batch = new Option<int>("--batch", "-b") { Description = "Batch size (binds the inputs' first, symbolic dimension)", DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup", "-w") { Description = "Untimed runs first (and at least 2 s of them unless 0, for the JIT to settle)", DefaultValueFactory = _ => 10 };
        var iterations = new Option<int>("--iterations", "-n") { Description = "Timed runs (per engine)", DefaultValueFactory = _ => 100 };
        var compare = new Option<string?>("--compare") { Description = "ort: also run ONNX Runtime, interleaved, and print ratio_p50 = fastinfer_p50 / ort_p50" };
        var json = CommonOptions.Json();
        var soak = new Option<double?>("--soak") { Description = "After the timed runs, run for SECONDS and report runs, working set and GC collections" };
        var cold = new Option<bool>("--cold") { Description = "Start a fresh process per run and report time to first result (load + plan + first Run)" };
        var runs = new Option<int>("--runs") { Description = "--cold: processes per engine", DefaultValueFactory = _ => 5 };
        var dims = CommonOptions.Dims();
        var inputs = CommonOptions.Inputs();
        var device = DeviceOptions.Device();
        var accelerator = DeviceOptions.Accelerator();
        var weights = CommonOptions.Weights();
        var cmd = new Command("bench", "Measure latency, throughput, allocations and memory; optionally against ONNX Runtime")
            { model, threads, batch, warmup, iterations, compare, json, soak, cold, runs, dims, inputs, device, accelerator, weights };
        cmd.SetAction(p =>
        {
            string? cmp = p.GetValue(compare);
            if (cmp is not null && !cmp.Equals("ort", StringComparison.OrdinalIgnoreCase) && !cmp.Equals("onnxruntime", StringComparison.OrdinalIgnoreCase))
                throw new CliException($"--compare '{cmp}': only 'ort' (ONNX Runtime) is supported");
            var s = new Settings(p.GetValue(model)!, CommonOptions.ThreadCount(p.GetValue(threads)), p.GetValue(batch), p.GetValue(warmup),
                p.GetValue(iterations), cmp is not null, p.GetValue(json), p.GetValue(soak), p.GetValue(cold), p.GetValue(runs),
                NameValue.ParseDims(p.GetValue(dims) ?? []), p.GetValue(inputs) ?? [])
            { Device = DeviceOptions.Parse(p, device, accelerator), Weights = p.GetValue(weights) ?? "pinned" };
            return Execute(ctx, s);
        });
        return cmd;
    }

    public static int Execute(CliContext ctx, Settings s)
    {
        if (s.Batch < 1) throw new CliException("--batch must be at least 1");
        if (s.Warmup < 0) throw new CliException("--warmup must be 0 or more");
        if (s.Iterations < 1 || s.Iterations > 10_000_000) throw new CliException("--iterations must be between 1 and 10000000");
        if (s.SoakSeconds is < 0 or > 30 * 24 * 3600) throw new CliException("--soak SECONDS must be between 0 and 30 days");
        if (s.Cold) return ColdBench.Execute(ctx, s);

        var result = new BenchResult
        {
            Model = s.Model, Threads = s.Threads, Batch = s.Batch, Warmup = s.Warmup, Iterations = s.Iterations, Isa = KernelIsa.Current.ToString(),
        };
        CommonOptions.RequireFile(s.Model);
        // Multi-thread latency on a shared host moves with how far apart its cores are: say which host this was.
        if (s.Threads > 1) result.CoreRoundTripNsBefore = Measurement.CoreRoundTrip.MeasureNanoseconds();
        var sessionOptions = CommonOptions.SessionOptions(s.Threads, s.Dims, s.Device);
        CommonOptions.ApplyWeights(sessionOptions, s.Weights);
        var probe = FastInfer.Formats.ModelReader.Load(s.Model, sessionOptions.ReaderLimits);
        var dims = new Dictionary<string, int>(s.Dims);
        byte[]? onnxBytes;
        try
        {
            ApplyBatch(probe.Inputs, s.Batch, dims);
            // ONNX Runtime gets a Keras model through the ONNX writer, before the session rewrites the graph.
            onnxBytes = s.CompareOrt && probe.SourceFormat != "onnx" ? FastInfer.Formats.Onnx.OnnxWriter.ToBytes(probe) : null;
        }
        catch { probe.Dispose(); throw; }
        foreach (var (k, v) in dims) sessionOptions.DimensionBindings[k] = v;
        using var session = InferenceSession.Create(probe, sessionOptions);
        result.Device = session.DeviceName;

        var values = InputLoader.Load(session.Inputs, s.Inputs, new ImageOptions(), dims, randomSeed: CheckCommand.RandomSeed);
        var inputs = values.Select(v => new NamedTensor(v.Info.Name, TensorConvert.ToTensor(v.Array))).ToArray();
        var shapes = session.GetOutputShapes(inputs, out var types);
        var outputs = session.Outputs.Select((o, i) => new NamedTensor(o.Name, Tensor.Allocate(types[i], shapes[i].ToArray()))).ToArray();
        var ortOutputs = session.Outputs.Select((o, i) => new NamedTensor(o.Name, Tensor.Allocate(types[i], shapes[i].ToArray()))).ToArray();
        OrtEngine? ort = null;
        OrtEngine.PreparedRun? ortRun = null;
        try
        {
            if (s.CompareOrt)
            {
                ort = onnxBytes is null ? OrtEngine.Create(s.Model, s.Threads) : OrtEngine.Create(onnxBytes, s.Threads);
                ortRun = ort.Prepare(inputs, ortOutputs);
            }
            var fi = new LatencyRecorder(s.Iterations);
            var ortLat = new LatencyRecorder(s.Iterations);
            long allocated = 0;

            void Loop(Action<double>? progress)
            {
                // At least --warmup runs and, unless that is 0, at least MinWarmupSeconds: .NET's tiered JIT promotes a
                // method only after 30 calls and a quiet spell, so ten runs of a model leave its kernels half in tier-0
                // code (ResNet-18 measured 36 ms instead of 27 that way; ONNX Runtime has no JIT to wait for).
                long warmEnd = Stopwatch.GetTimestamp() + (long)(MinWarmupSeconds * Stopwatch.Frequency);
                for (int i = 0; i < s.Warmup || (s.Warmup > 0 && Stopwatch.GetTimestamp() < warmEnd); i++)
                {
                    session.Run(inputs, outputs);
                    ortRun?.Run();
                }
                // Interleaved in blocks of runs, the engine going first alternating per block: ONNX Runtime's
                // workers keep spinning for a while after each of its runs (and ours for 200 µs), so on a 2-core
                // machine a run that directly follows the other engine's finds a core taken. Blocks confine that to
                // the first run of each block, which the median ignores; both still see the same machine state.
                for (int i = 0; i < s.Iterations; i += InterleaveBlock)
                {
                    int block = Math.Min(InterleaveBlock, s.Iterations - i);
                    bool ortFirst = ortRun is not null && (i / InterleaveBlock & 1) == 1;
                    if (ortFirst) { for (int j = 0; j < block; j++) TimeOrt(ortRun!, ortLat); Settle(); }
                    for (int j = 0; j < block; j++)
                    {
                        long a0 = GC.GetAllocatedBytesForCurrentThread();
                        long t0 = Stopwatch.GetTimestamp();
                        session.Run(inputs, outputs);
                        long t1 = Stopwatch.GetTimestamp();
                        allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
                        fi.Add(t0, t1);
                        progress?.Invoke(i + j + 1);
                    }
                    if (ortRun is not null) Settle();
                    if (ortRun is not null && !ortFirst) for (int j = 0; j < block; j++) TimeOrt(ortRun, ortLat);
                }
            }

            if (!s.Json && ctx.Interactive)
            {
                ctx.Console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(p =>
                    {
                        var task = p.AddTask(s.CompareOrt ? "FastInfer + ONNX Runtime" : "FastInfer", maxValue: s.Iterations);
                        Loop(done => task.Value = done);
                    });
            }
            else Loop(null);

            result.Fastinfer = fi.Summarize(s.Batch);
            result.AllocBytesPerRun = (double)allocated / s.Iterations;
            if (ortRun is not null)
            {
                result.Onnxruntime = ortLat.Summarize(s.Batch);
                result.RatioP50 = result.Fastinfer.P50Ms / result.Onnxruntime.P50Ms;
            }
            if (s.SoakSeconds is double seconds) result.Soak = Soak(session, inputs, outputs, seconds);
            using (var me = Process.GetCurrentProcess()) { me.Refresh(); result.PeakWorkingSetBytes = me.PeakWorkingSet64; }
            if (s.Threads > 1) result.CoreRoundTripNsAfter = Measurement.CoreRoundTrip.MeasureNanoseconds();
        }
        finally
        {
            ortRun?.Dispose();
            ort?.Dispose();
            foreach (var t in inputs.Concat(outputs).Concat(ortOutputs)) t.Tensor.Dispose();
        }

        if (s.Json) Json.Write(ctx, result, CliJsonContext.Default.BenchResult);
        else Print(ctx, result);
        return ExitCodes.Success;
    }

    /// <summary>Shortest warm-up, so the JIT's tier-1 code is what gets timed.</summary>
    private const double MinWarmupSeconds = 2.0;

    /// <summary>
    /// Between one engine's block and the other's, untimed: ONNX Runtime's workers spin for milliseconds after a run
    /// (and ours for 200 µs), and on a 2-core machine a spinning worker holds the core the other engine's workers need.
    /// </summary>
    private static void Settle() => Thread.Sleep(SettleMilliseconds);

    private const int SettleMilliseconds = 100;

    /// <summary>Runs per engine per turn when comparing with ONNX Runtime.</summary>
    private const int InterleaveBlock = 5;

    private static void TimeOrt(OrtEngine.PreparedRun run, LatencyRecorder rec)
    {
        long t0 = Stopwatch.GetTimestamp();
        run.Run();
        rec.Add(t0, Stopwatch.GetTimestamp());
    }

    /// <summary>Binds the first dimension of every input to the batch size: a symbol gets bound, a fixed size must agree.</summary>
    public static void ApplyBatch(IReadOnlyList<ValueInfo> inputs, int batch, Dictionary<string, int> dims)
    {
        foreach (var input in inputs)
        {
            if (input.Shape is not { Count: > 0 } shape) continue;
            var first = shape[0];
            if (first.IsFixed)
            {
                if (batch != 1 && first.Value != batch)
                    throw new CliException($"--batch {batch}: input '{input.Name}' has a fixed first dimension of {first.Value}");
            }
            else if (first.Symbol is { } sym && !dims.ContainsKey(sym)) dims[sym] = batch;
            else if (first.Symbol is null && batch != 1)
                throw new CliException($"--batch {batch}: input '{input.Name}' has an unnamed first dimension; bind shapes with --input files instead");
        }
    }

    /// <summary>Runs for a while and reports whether the process is steady: runs, working set, managed heap and GC counts.</summary>
    private static SoakStats Soak(InferenceSession session, NamedTensor[] inputs, NamedTensor[] outputs, double seconds)
    {
        using var me = Process.GetCurrentProcess();
        // Settle once so the counters start from the steady state.
        session.Run(inputs, outputs);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        me.Refresh();
        var stats = new SoakStats { Seconds = seconds, WorkingSetStartBytes = me.WorkingSet64, ManagedBytesStart = GC.GetTotalMemory(false) };
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        long a0 = GC.GetAllocatedBytesForCurrentThread();
        long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        long runs = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            session.Run(inputs, outputs);
            runs++;
        }
        stats.AllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - a0;
        stats.Gen0Collections = GC.CollectionCount(0) - g0;
        stats.Gen1Collections = GC.CollectionCount(1) - g1;
        stats.Gen2Collections = GC.CollectionCount(2) - g2;
        stats.RunsCompleted = runs;
        me.Refresh();
        stats.WorkingSetEndBytes = me.WorkingSet64;
        stats.ManagedBytesEnd = GC.GetTotalMemory(false);
        return stats;
    }

    private static void Print(CliContext ctx, BenchResult r)
    {
        ctx.Line($"{Path.GetFileName(r.Model)}: batch {r.Batch}, {r.Threads} thread(s), ISA {r.Isa}, {r.Warmup} warm-up + {r.Iterations} timed runs{(r.Onnxruntime is null ? "" : " per engine, interleaved")}");
        var t = Tables.Create("engine", "min ms", "p50 ms", "p90 ms", "p99 ms", "mean ms", "items/s");
        void Add(string name, LatencyStats? l) { if (l is not null) t.Row(name, l.MinMs, l.P50Ms, l.P90Ms, l.P99Ms, l.MeanMs, l.ThroughputPerS); }
        Add("FastInfer", r.Fastinfer);
        Add("ONNX Runtime", r.Onnxruntime);
        ctx.Console.Write(t);
        if (r.RatioP50 is double ratio) ctx.Line($"ratio_p50 = fastinfer_p50 / ort_p50 = {ratio:0.000}");
        ctx.Line($"alloc_bytes_per_run = {r.AllocBytesPerRun:0.#}, peak working set = {Tables.Bytes(r.PeakWorkingSetBytes)}");
        if (r.CoreRoundTripNsBefore is double before)
            ctx.Line($"core-to-core round trip before / after the runs = {before:0} / {r.CoreRoundTripNsAfter:0} ns (multi-thread latency moves with it on a shared host)");
        if (r.Soak is { } s)
            ctx.Line($"soak {s.Seconds:0.#} s: {s.RunsCompleted} runs, working set {Tables.Bytes(s.WorkingSetStartBytes)} -> {Tables.Bytes(s.WorkingSetEndBytes)}, " +
                $"managed heap {Tables.Bytes(s.ManagedBytesStart)} -> {Tables.Bytes(s.ManagedBytesEnd)}, allocated {s.AllocatedBytes} B, GC gen0/1/2 = {s.Gen0Collections}/{s.Gen1Collections}/{s.Gen2Collections}");
    }
}
