using System.Diagnostics;
using FastInfer.Formats;
using FastInfer.Formats.Fim;
using FastInfer.Formats.Onnx;
using FastInfer.ModelGen;
using FastInfer.Runtime;

// fastinfer-modelgen: writes the seed CNN at a chosen size and measures loading and running it.
//   write     [--size 1000x1000x3] [--seed 1] [--out DIR] [--name seed_cnn] [--fim] [--keras]
//   measure   MODEL [--placement pinned|mapped] [--threads 1] [--runs 20] [--no-verify]
//   measure-ort MODEL [--threads 1] [--runs 20]
//   bandwidth [--mb 2048] [--threads 1]
// Each measure prints one line: load, first run, median steady run, peak RSS. Run one per process: the peak is the
// process's own.

var options = Args.Parse(args);
if (options.Command is "measure" or "measure-ort" && options.Positional is null)
{
    Console.Error.WriteLine($"fastinfer-modelgen {options.Command} needs a model path (.onnx, .fim or .h5)");
    Environment.Exit(2);
}
switch (options.Command)
{
    case "write": Write(options); break;
    case "measure": MeasureFastInfer(options); break;
    case "measure-ort": MeasureOrt(options); break;
    case "bandwidth": MeasureBandwidth(options); break;
    default:
        Console.Error.WriteLine("usage: fastinfer-modelgen write|measure|measure-ort|bandwidth ... (see Program.cs)");
        Environment.Exit(2);
        break;
}

static void Write(Args a)
{
    var (h, w, c) = a.Size("size", (1000, 1000, 3));
    string folder = Path.GetFullPath(a.Get("out", "."));
    Directory.CreateDirectory(folder);
    string name = a.Get("name", "seed_cnn");
    var sw = Stopwatch.StartNew();
    using var graph = SeedCnnModel.Build(h, w, c, (ulong)a.Int("seed", 1), folder);
    Console.WriteLine($"built {graph.ParameterCount:N0} parameters ({graph.WeightBytes / 1e9:F2} GB) in {sw.Elapsed.TotalSeconds:F1} s");
    sw.Restart();
    string onnx = Path.Combine(folder, name + ".onnx");
    OnnxWriter.Save(graph, onnx, new OnnxWriteOptions { ExternalDataThreshold = a.Int("external-threshold", 1024) });
    Console.WriteLine($"wrote {onnx} (+ .data) in {sw.Elapsed.TotalSeconds:F1} s");
    if (a.Flag("fim"))
    {
        sw.Restart();
        string fim = Path.Combine(folder, name + ".fim");
        FimWriter.Save(graph, fim);
        Console.WriteLine($"wrote {fim} in {sw.Elapsed.TotalSeconds:F1} s");
    }
    if (a.Flag("keras"))
    {
        sw.Restart();
        string h5 = Path.Combine(folder, name + ".h5");
        SeedCnnKeras.Write(h5, h, w, c, (ulong)a.Int("seed", 1));
        Console.WriteLine($"wrote {h5} (Keras HDF5, its own seeded weights) in {sw.Elapsed.TotalSeconds:F1} s");
    }
    Console.WriteLine($"peak RSS while writing: {ProcessMemory.Mb(ProcessMemory.PeakBytes)}");
}

static float[] Input(int count)
{
    var x = new float[count];
    new SeededWeights(99).Fill(x, 1f);
    return x;
}

static void MeasureFastInfer(Args a)
{
    string path = a.Positional ?? throw new ArgumentException("measure needs a model path");
    int threads = a.Int("threads", 1), runs = a.Int("runs", 20);
    var placement = a.Get("placement", "pinned") == "mapped" ? WeightPlacement.Mapped : WeightPlacement.Pinned;
    long before = ProcessMemory.ResidentBytes;
    ProcessMemory.ResetPeak();
    var sw = Stopwatch.StartNew();
    var opts = new SessionOptions { IntraOpThreads = threads, WeightPlacement = placement, VerifyWeightChecksums = !a.Flag("no-verify") };
    using var session = InferenceSession.Load(path, opts);
    double load = sw.Elapsed.TotalMilliseconds;
    long peakLoad = ProcessMemory.PeakBytes;
    var shape = session.Inputs[0].Shape!.Select(d => d.IsFixed ? (int)d.Value : 1).ToArray();
    using var x = Tensor.FromArray(Input(shape.Aggregate(1, (p, d) => p * d)), shape);
    var input = new[] { new NamedTensor(session.Inputs[0].Name, x) };
    var outputs = new[] { new NamedTensor(session.Outputs[0].Name, Tensor.Allocate(FastInfer.Ir.DataType.Float, 1, SeedCnnModel.Classes)) };
    sw.Restart();
    session.Run(input, outputs);
    double first = sw.Elapsed.TotalMilliseconds;
    long peakFirst = ProcessMemory.PeakBytes;
    var times = new double[runs];
    for (int i = 0; i < runs; i++)
    {
        sw.Restart();
        session.Run(input, outputs);
        times[i] = sw.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    var y = outputs[0].Tensor.AsSpan<float>();
    Console.WriteLine($"fastinfer {Path.GetFileName(path)} placement={placement} threads={threads} load_ms={load:F0} first_run_ms={first:F0} " +
        $"load_plus_first_ms={load + first:F0} steady_median_ms={times[runs / 2]:F1} steady_min_ms={times[0]:F1} " +
        $"peak_rss_load={ProcessMemory.Mb(peakLoad)} peak_rss_after_first_run={ProcessMemory.Mb(peakFirst)} rss_before={ProcessMemory.Mb(before)} " +
        $"rss_anon={ProcessMemory.Mb(ProcessMemory.AnonymousBytes)} rss_file={ProcessMemory.Mb(ProcessMemory.FileBytes)} anon_huge={ProcessMemory.Mb(ProcessMemory.AnonHugeBytes)} weights={session.Graph.WeightBytes / 1e6:F0} MB y0={y[0]:G6}");
    outputs[0].Tensor.Dispose();
}

static void MeasureOrt(Args a)
{
    string path = a.Positional ?? throw new ArgumentException("measure-ort needs a model path");
    int threads = a.Int("threads", 1), runs = a.Int("runs", 20);
    long before = ProcessMemory.ResidentBytes;
    ProcessMemory.ResetPeak();
    var sw = Stopwatch.StartNew();
    using var so = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
    using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, so);
    double load = sw.Elapsed.TotalMilliseconds;
    long peakLoad = ProcessMemory.PeakBytes;
    var meta = session.InputMetadata.First();
    var shape = meta.Value.Dimensions;
    var x = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(Input(shape.Aggregate(1, (p, d) => p * d)), shape);
    var inputs = new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(meta.Key, x) };
    sw.Restart();
    float y0;
    using (var r = session.Run(inputs)) y0 = r.First().AsEnumerable<float>().First();
    double first = sw.Elapsed.TotalMilliseconds;
    long peakFirst = ProcessMemory.PeakBytes;
    var times = new double[runs];
    for (int i = 0; i < runs; i++)
    {
        sw.Restart();
        using var r = session.Run(inputs);
        times[i] = sw.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    Console.WriteLine($"onnxruntime {Path.GetFileName(path)} threads={threads} create_ms={load:F0} first_run_ms={first:F0} load_plus_first_ms={load + first:F0} " +
        $"steady_median_ms={times[runs / 2]:F1} steady_min_ms={times[0]:F1} peak_rss_load={ProcessMemory.Mb(peakLoad)} " +
        $"peak_rss_after_first_run={ProcessMemory.Mb(peakFirst)} rss_before={ProcessMemory.Mb(before)} y0={y0:G6}");
}

static unsafe void MeasureBandwidth(Args a)
{
    long bytes = (long)a.Int("mb", 2048) << 20;
    int threads = a.Int("threads", 1);
    using var block = new FastInfer.Ir.NativeMemoryBlock(bytes, zero: false);
    new Span<byte>((void*)block.Pointer, (int)Math.Min(bytes, int.MaxValue)).Fill(1);
    if (bytes > int.MaxValue) new Span<byte>((byte*)block.Pointer + int.MaxValue, (int)(bytes - int.MaxValue)).Fill(1);
    using var pool = new FastInfer.Kernels.Threading.WorkerPool(threads);
    double best = double.MaxValue;
    for (int rep = 0; rep < 7; rep++)
    {
        var body = new SumBody { Base = (float*)block.Pointer, Floats = bytes / 4, Parts = threads };
        var sw = Stopwatch.StartNew();
        pool.For(threads, ref body);
        best = Math.Min(best, sw.Elapsed.TotalSeconds);
    }
    Console.WriteLine($"bandwidth threads={threads} buffer={bytes >> 20} MiB read_GBps={bytes / best / 1e9:F1}");
}

unsafe struct SumBody : FastInfer.Kernels.Threading.IParallelBody
{
    public float* Base;
    public long Floats;
    public int Parts;
    public float Sink;

    public void Invoke(int part)
    {
        long a = Floats * part / Parts, b = Floats * (part + 1) / Parts;
        var acc0 = System.Runtime.Intrinsics.Vector256<float>.Zero;
        var acc1 = acc0; var acc2 = acc0; var acc3 = acc0;
        long i = a;
        for (; i + 32 <= b; i += 32)
        {
            acc0 += System.Runtime.Intrinsics.Vector256.Load(Base + i);
            acc1 += System.Runtime.Intrinsics.Vector256.Load(Base + i + 8);
            acc2 += System.Runtime.Intrinsics.Vector256.Load(Base + i + 16);
            acc3 += System.Runtime.Intrinsics.Vector256.Load(Base + i + 24);
        }
        Sink += System.Runtime.Intrinsics.Vector256.Sum(acc0 + acc1 + acc2 + acc3);
    }
}

/// <summary>Minimal "command [positional] --key value --flag" parsing.</summary>
sealed class Args
{
    private readonly Dictionary<string, string> _values = new();
    private readonly HashSet<string> _flags = new();
    public string Command { get; private set; } = "";
    public string? Positional { get; private set; }

    public static Args Parse(string[] args)
    {
        var a = new Args();
        for (int i = 0; i < args.Length; i++)
        {
            if (i == 0 && !args[i].StartsWith("--")) { a.Command = args[i]; continue; }
            if (args[i].StartsWith("--"))
            {
                string key = args[i][2..];
                if (i + 1 < args.Length && !args[i + 1].StartsWith("--")) a._values[key] = args[++i];
                else a._flags.Add(key);
            }
            else a.Positional ??= args[i];
        }
        return a;
    }

    public string Get(string key, string fallback) => _values.GetValueOrDefault(key, fallback);
    public int Int(string key, int fallback) => _values.TryGetValue(key, out var v) ? int.Parse(v) : fallback;
    public bool Flag(string key) => _flags.Contains(key);

    public (int H, int W, int C) Size(string key, (int, int, int) fallback)
    {
        if (!_values.TryGetValue(key, out var v)) return fallback;
        var p = v.Split('x').Select(int.Parse).ToArray();
        return (p[0], p.Length > 1 ? p[1] : p[0], p.Length > 2 ? p[2] : 3);
    }
}
