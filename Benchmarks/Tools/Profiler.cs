using System.Diagnostics;
using FastInfer.Kernels.Blas;
using FastInfer.Kernels.Convolution;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;
using FastInfer.Runtime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// A quick in-process profiler (not BenchmarkDotNet): <c>profile peak|kernel|gemm|gemmab|layers|twin|steps|loops|minilm|attention|model|ortmodel|ab|abplan|scaling|pool|resnet|seedcnn [threads] [reps]</c>.
/// Every comparison is interleaved in one process and reported as medians, because the machine is shared.
/// </summary>
public static unsafe class Profiler
{
    public static void Run(string[] args)
    {
        string what = args.Length > 0 ? args[0] : "all";
        int threads = args.Length > 1 ? int.Parse(args[1]) : 1;
        int reps = args.Length > 2 ? int.Parse(args[2]) : 20;
        if (Environment.GetEnvironmentVariable("FASTINFER_DIRECT_TILES") == "0") DirectTileConv.Enabled = false;
        if (Environment.GetEnvironmentVariable("FASTINFER_F23") == "0") WinogradF23.Enabled = false;
        if (int.TryParse(Environment.GetEnvironmentVariable("FASTINFER_F23_F43TILES"), out int f43Tiles)) WinogradF23.F43TilesUpTo = f43Tiles;
        double peak = 0;
        if (what is "peak" or "all" or "gemm" or "layers" or "kernel" or "attention")
        {
            peak = FmaPeak.MeasureGflops();
            Console.WriteLine($"FMA peak, 1 core, AVX-512: {peak:F1} GFLOP/s");
        }
        if (what is "kernel" or "all") MicroKernelProbe.Run(peak);
        if (what is "gemm" or "all") Gemm(threads, reps, peak);
        if (what is "layers" or "all") Layers(threads, reps, peak);
        if (what is "resnet" or "all") ResNet(threads, reps);
        if (what is "steps") Steps(threads, reps);
        if (what is "pool") PoolProbe.Run(threads, reps);
        if (what is "attention") AttentionProbe.Run(peak, reps);
        if (what is "minilm") StepsMiniLm(threads, reps);
        if (what is "model") StepsModel(Environment.GetEnvironmentVariable("FASTINFER_PROFILE_MODEL") ?? throw new ArgumentException("set FASTINFER_PROFILE_MODEL"), threads, reps);
        if (what is "ortmodel") OrtNodeProfiler.Run(Environment.GetEnvironmentVariable("FASTINFER_PROFILE_MODEL") ?? throw new ArgumentException("set FASTINFER_PROFILE_MODEL"), threads, reps);
        if (what is "scaling") ScalingModel(Environment.GetEnvironmentVariable("FASTINFER_PROFILE_MODEL") ?? ResNetPath, threads, reps);
        if (what is "gemmab") GemmAb(threads, reps);
        if (what is "twin") Twin(reps);
        if (what is "maxpool") MaxPool(threads, reps);
        if (what is "im2col") Im2ColAlone(reps);
        if (what is "abplan") AbPlan(Environment.GetEnvironmentVariable("FASTINFER_PROFILE_MODEL") ?? ResNetPath, threads, reps);
        if (what is "loops") LoopsModel(Environment.GetEnvironmentVariable("FASTINFER_PROFILE_MODEL") ?? ResNetPath, threads, reps);
        if (what is "ab") AbModel(Environment.GetEnvironmentVariable("FASTINFER_PROFILE_MODEL") ?? ResNetPath, threads, reps);
        if (what is "seedcnn") Compare("seed CNN 32x32x3", global::FastInfer.Tests.Support.SeedCnn.Build(32, 32, 3), 32, 2f, threads, reps);
    }

    private static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

    /// <summary>The sequence length symbolic dims past the first bind to: FASTINFER_PROFILE_SEQ, else 128.</summary>
    internal static int SequenceLength =>
        int.TryParse(Environment.GetEnvironmentVariable("FASTINFER_PROFILE_SEQ"), out int n) ? n : 128;

    /// <summary>A value for an int64 model input: 1 for an attention mask, 0 for token types, else a token id.</summary>
    internal static long TokenValue(string inputName, Random rnd) =>
        inputName.Contains("mask", StringComparison.Ordinal) ? 1 : inputName.Contains("type", StringComparison.Ordinal) ? 0 : rnd.Next(1000, 20000);

    /// <summary>Runs for at least 2 s (and 3 times): the tiered JIT promotes hot methods only after 30 calls and a quiet
    /// spell, and timing tier-0 code makes a model look up to 2× slower than it is.</summary>
    private static void WarmUp(Action run)
    {
        long end = Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency;
        for (int i = 0; i < 3 || Stopwatch.GetTimestamp() < end; i++) run();
    }

    private static AlignedBuffer Fill(long n, Random rnd)
    {
        var b = new AlignedBuffer(n * 4);
        for (long i = 0; i < n; i++) b.Floats[i] = (float)rnd.NextDouble() - 0.5f;
        return b;
    }

    public static void Gemm(int threads, int reps, double peak)
    {
        CblasProvider.TryLoad(out var blas, out string msg);
        blas?.LimitThreads(threads); // OpenBLAS would otherwise use every core against our `threads`
        Console.WriteLine($"CBLAS: {(blas != null ? blas.LibraryName : msg)}; OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE")}");
        using var pool = new WorkerPool(threads);
        using (var wa = Fill(256 * 256, new Random(0)))
        using (var wc = new AlignedBuffer(256 * 256 * 4))
        using (var wp = Sgemm.PackA(false, 256, 256, wa.Floats, 256))
            WarmUp(() => Sgemm.MultiplyPackedA(wp, 256, wa.Floats, 256, wc.Floats, 256, default, pool));
        var shapes = new[] { (256, 256, 256), (1024, 1024, 1024), (64, 12544, 147), (64, 3136, 576), (128, 784, 1152), (256, 196, 2304), (512, 49, 4608), (1, 1000, 512), (128, 384, 384), (128, 1536, 384), (128, 384, 1536), (49, 512, 4608) };
        // FASTINFER_GEMM_SHAPE=M,N,K[;M,N,K...] measures those shapes only.
        if (Environment.GetEnvironmentVariable("FASTINFER_GEMM_SHAPE") is { } only)
            shapes = only.Split(';').Select(t => t.Split(',').Select(int.Parse).ToArray()).Select(d => (d[0], d[1], d[2])).ToArray();
        foreach (var shape in shapes)
        {
            var (m, n, k) = shape;
            var rnd = new Random(1);
            using var a = Fill((long)m * k, rnd);
            using var b = Fill((long)k * n, rnd);
            using var c = new AlignedBuffer((long)m * n * 4);
            using var pa = Sgemm.PackA(false, m, k, a.Floats, k);
            using var pb = Sgemm.PackB(false, k, n, b.Floats, n);
            var tA = new List<double>(); var tB = new List<double>(); var tBlas = new List<double>();
            int inner = Math.Max(1, (int)(2e8 / (2.0 * m * n * k)));
            for (int r = 0; r < reps + 2; r++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < inner; i++) Sgemm.MultiplyPackedA(pa, n, b.Floats, n, c.Floats, n, default, pool);
                if (r >= 2) tA.Add(sw.Elapsed.TotalSeconds / inner);
                sw.Restart();
                for (int i = 0; i < inner; i++) Sgemm.MultiplyPacked(m, n, k, 1, a.Floats, k, pb, 0, c.Floats, n, default, pool);
                if (r >= 2) tB.Add(sw.Elapsed.TotalSeconds / inner);
                if (blas != null)
                {
                    sw.Restart();
                    for (int i = 0; i < inner; i++) blas.Sgemm(false, false, m, n, k, 1, a.Floats, k, b.Floats, n, 0, c.Floats, n);
                    if (r >= 2) tBlas.Add(sw.Elapsed.TotalSeconds / inner);
                }
            }
            double f = 2.0 * m * n * k / 1e9;
            double ga = f / Median(tA), gb = f / Median(tB), gc = tBlas.Count > 0 ? f / Median(tBlas) : double.NaN;
            double ba = f / tA.Min(), bb = f / tB.Min(), bc = tBlas.Count > 0 ? f / tBlas.Min() : double.NaN;
            Console.WriteLine($"sgemm {m}x{n}x{k} t={threads} GFLOP/s p50|best: packedA {ga,6:F1}|{ba,6:F1} ({100 * ba / peak / threads:F0}% of peak)  packedB {gb,6:F1}|{bb,6:F1}  cblas {gc,6:F1}|{bc,6:F1}");
        }
        blas?.Dispose();
    }

    public static void Layers(int threads, int reps, double peak)
    {
        using var pool = new WorkerPool(threads);
        double total = 0, totalMin = 0, totalFlops = 0;
        string? only = Environment.GetEnvironmentVariable("FASTINFER_PROFILE_LAYER"); // a name fragment: profile that layer alone
        // FASTINFER_PROFILE_COLD=1: every thread reads 64 MiB before each run, so the layer's weights and buffers come
        // from memory as they do inside a whole model (whose 47 MB of weights do not stay in cache between uses).
        using var flush = Environment.GetEnvironmentVariable("FASTINFER_PROFILE_COLD") == "1" ? new AlignedBuffer(64L << 20) : null;
        foreach (var (name, s) in ResNet18Layers.All())
        {
            if (only != null && !name.Contains(only, StringComparison.Ordinal)) continue;
            using var layer = new LayerData(s, allowWinograd: Environment.GetEnvironmentVariable("FASTINFER_WINOGRAD") != "0");
            var algorithm = layer.Algorithm;
            var t = new List<double>();
            WarmUp(() => layer.Run(pool));
            for (int r = 0; r < reps; r++)
            {
                if (flush != null) Flush(flush, pool);
                var sw = Stopwatch.StartNew();
                layer.Run(pool);
                t.Add(sw.Elapsed.TotalSeconds);
            }
            string label = name + (algorithm == ConvAlgorithm.Winograd ? " [W]" : algorithm == ConvAlgorithm.PixelRowsGemm ? " [T]" : algorithm == ConvAlgorithm.DirectSmall ? " [D]" : "");
            double min = t.Min(), med = Median(t), f = 2.0 * s.MultiplyAdds / 1e9;
            total += med; totalMin += min; totalFlops += f;
            Console.WriteLine($"{label,-34} p50 {med * 1e3,7:F3} ms  min {min * 1e3,7:F3} ms {f / min,6:F1} GFLOP/s at min ({100 * f / min / peak / threads:F0}% of peak)");
        }
        Console.WriteLine($"sum of convs t={threads}: p50 {total * 1e3:F2} ms, min {totalMin * 1e3:F2} ms, {totalFlops / totalMin:F1} GFLOP/s nominal at min");
    }

    /// <summary>Evicts the caches of every pool thread: each reads a 64 MiB buffer (a line per 64 bytes).</summary>
    private static void Flush(AlignedBuffer buffer, WorkerPool pool)
    {
        var body = new FlushBody { Start = buffer.Floats, Floats = buffer.ByteLength / sizeof(float) };
        pool.For(pool.Concurrency, ref body);
    }

    private unsafe struct FlushBody : IParallelBody
    {
        public float* Start;
        public long Floats;
        public float Sink;

        public void Invoke(int i)
        {
            float s = 0;
            for (long j = 0; j < Floats; j += 16) s += Start[j];
            Sink = s;
        }
    }

    public static void Steps(int threads, int reps)
    {
        var rnd = new Random(5);
        var input = new float[3 * 224 * 224];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(rnd.NextDouble() - 0.5) * 100f;
        using var session = InferenceSession.Load(ResNetPath, new SessionOptions { IntraOpThreads = threads, Winograd = Environment.GetEnvironmentVariable("FASTINFER_WINOGRAD") != "0" });
        using var x = Tensor.FromArray(input, 1, 3, 224, 224);
        var inputs = new[] { new NamedTensor(session.Inputs[0].Name, x) };
        var outs = session.Run(inputs);
        WarmUp(() => session.Run(inputs, outs));
        StepProfiler.Run(session, inputs, outs, reps);
        foreach (var o in outs) o.Tensor.Dispose();
    }

    /// <summary>Per-step times of all-MiniLM-L6-v2 at batch 1, sequence 128 (the model file the tests extract from the NuGet package).</summary>
    public static void StepsMiniLm(int threads, int reps)
    {
        string? path = Directory.Exists(Path.Combine(Path.GetTempPath(), "fastinfer-tests"))
            ? Directory.GetFiles(Path.Combine(Path.GetTempPath(), "fastinfer-tests"), "model.onnx", SearchOption.AllDirectories).FirstOrDefault(f => f.Contains("minilm"))
            : null;
        if (path is null) { Console.WriteLine("MiniLM not extracted yet: run the Transformer tests once."); return; }
        int seq = SequenceLength;
        var ids = new long[seq]; var mask = new long[seq]; var types = new long[seq];
        var rnd = new Random(3);
        for (int i = 0; i < seq; i++) { ids[i] = i == 0 ? 101 : i == seq - 1 ? 102 : rnd.Next(1000, 30000); mask[i] = 1; }
        using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads });
        using var tIds = Tensor.FromArray(ids, 1, seq);
        using var tMask = Tensor.FromArray(mask, 1, seq);
        using var tTypes = Tensor.FromArray(types, 1, seq);
        var inputs = new[] { new NamedTensor("input_ids", tIds), new NamedTensor("attention_mask", tMask), new NamedTensor("token_type_ids", tTypes) };
        var outs = session.Run(inputs);
        WarmUp(() => session.Run(inputs, outs));
        var plain = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            session.Run(inputs, outs);
            plain.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        Console.WriteLine($"MiniLM seq {seq} t={threads}: Run p50 {Median(plain):F2} ms, min {plain.Min():F2} ms (no profiling hooks)");
        StepProfiler.Run(session, inputs, outs, reps);
        foreach (var o in outs) o.Tensor.Dispose();
    }

    /// <summary>Uniform [0, 1) floats for every input at its default shape; the tensors are the caller's to dispose.</summary>
    private static NamedTensor[] RandomInputs(InferenceSession session, out List<Tensor> tensors)
    {
        var rnd = new Random(5);
        var made = new List<Tensor>();
        // Symbolic dims past the first bind to SequenceLength; int64 inputs take TokenValue.
        int seq = SequenceLength;
        var inputs = session.Inputs.Select(i =>
        {
            var shape = session.DefaultShape(i);
            for (int d = 1; d < shape.Length; d++) if (i.Shape is { } dims && !dims[d].IsFixed) shape[d] = seq;
            int count = shape.Aggregate(1, (a, d) => a * d);
            Tensor t;
            if (i.ElementType == FastInfer.Ir.DataType.Int64)
            {
                var ids = new long[count];
                for (int k = 0; k < count; k++) ids[k] = TokenValue(i.Name, rnd);
                t = Tensor.FromArray(ids, shape);
            }
            else
            {
                var data = new float[count];
                // FASTINFER_PROFILE_SIGNED=1: uniform [-1, 1) as `fastinfer bench` feeds, else [0, 1).
                bool signed = Environment.GetEnvironmentVariable("FASTINFER_PROFILE_SIGNED") == "1";
                for (int k = 0; k < data.Length; k++) data[k] = signed ? (float)(rnd.NextDouble() * 2 - 1) : (float)rnd.NextDouble();
                t = Tensor.FromArray(data, shape);
            }
            made.Add(t);
            return new NamedTensor(i.Name, t);
        }).ToArray();
        tensors = made;
        return inputs;
    }

    /// <summary>Per-step times of any model with float inputs of fixed shape (FASTINFER_PROFILE_MODEL=path).</summary>
    public static void StepsModel(string path, int threads, int reps) =>
        WithWarmSession(path, threads, (session, inputs, outs) => StepProfiler.Run(session, inputs, outs, reps));

    /// <summary>Every parallel loop of a Run (<see cref="LoopProfiler"/>), of ResNet-18 or FASTINFER_PROFILE_MODEL.</summary>
    public static void LoopsModel(string path, int threads, int reps) =>
        WithWarmSession(path, threads, (session, inputs, outs) => LoopProfiler.Run(session, inputs, outs, reps));

    /// <summary>A session on the model with random inputs, warmed up (<see cref="WarmUp"/>), handed to <paramref name="profile"/>.</summary>
    private static void WithWarmSession(string path, int threads, Action<InferenceSession, NamedTensor[], NamedTensor[]> profile)
    {
        using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads });
        var inputs = RandomInputs(session, out var tensors);
        var outs = session.Run(inputs);
        WarmUp(() => session.Run(inputs, outs));
        profile(session, inputs, outs);
        foreach (var o in outs) o.Tensor.Dispose();
        foreach (var t in tensors) t.Dispose();
    }

    /// <summary>
    /// An in-process A/B of one kernel switch on a whole model (FASTINFER_AB=prefetch: a prepacked B's next slice
    /// prefetched; wgroup: Winograd's small-image tile-row grouping; steal: the pool's work stealing):
    /// runs alternate between the settings, so the machine's slow drifts hit both alike; medians of each. With
    /// FASTINFER_AB_STEPS=1 every step of the plan is timed under both settings instead (a per-step A/B).
    /// </summary>
    public static void AbModel(string path, int threads, int reps)
    {
        using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads });
        var inputs = RandomInputs(session, out var tensors);
        var outs = session.Run(inputs);
        string which = Environment.GetEnvironmentVariable("FASTINFER_AB") ?? "prefetch";
        var set = AbSwitch(which);
        bool flip = false;
        WarmUp(() => { set(flip = !flip); session.Run(inputs, outs); });
        if (Environment.GetEnvironmentVariable("FASTINFER_AB_STEPS") == "1")
        {
            StepProfiler.Run(session, inputs, outs, reps, set);
            set(true);
            return;
        }
        var on = new List<double>(); var off = new List<double>();
        for (int r = 0; r < 2 * reps; r++)
        {
            bool a = r % 2 == 0;
            set(a);
            long t0 = Stopwatch.GetTimestamp();
            session.Run(inputs, outs);
            (a ? on : off).Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        set(true);
        Console.WriteLine($"{Path.GetFileName(path)} t={threads}: {which} on p50 {Median(on):F4} ms (min {on.Min():F4}), off p50 {Median(off):F4} ms (min {off.Min():F4})");
        foreach (var o in outs) o.Tensor.Dispose();
        foreach (var t in tensors) t.Dispose();
    }

    /// <summary>
    /// An in-process A/B of one kernel switch (FASTINFER_AB, as for <see cref="AbModel"/>) on plain SGEMM calls, both
    /// operands packed on the fly (what sysinfo measures): calls alternate between the settings; GFLOP/s medians of each.
    /// </summary>
    public static void GemmAb(int threads, int reps)
    {
        string which = Environment.GetEnvironmentVariable("FASTINFER_AB") ?? "prefetch";
        var set = AbSwitch(which);
        using var pool = new WorkerPool(threads);
        var shapes = new[] { (1024, 1024, 1024), (256, 256, 256), (2048, 2048, 2048), (64, 12544, 147), (64, 3136, 576), (128, 784, 1152), (256, 196, 2304), (512, 49, 4608), (128, 1536, 384) };
        // FASTINFER_GEMM_SHAPE=M,N,K[;M,N,K...] measures those shapes only.
        if (Environment.GetEnvironmentVariable("FASTINFER_GEMM_SHAPE") is { } only)
            shapes = only.Split(';').Select(t => t.Split(',').Select(int.Parse).ToArray()).Select(d => (d[0], d[1], d[2])).ToArray();
        foreach (var (m, n, k) in shapes)
        {
            var rnd = new Random(1);
            using var a = Fill((long)m * k, rnd);
            using var b = Fill((long)k * n, rnd);
            using var c = new AlignedBuffer((long)m * n * 4);
            bool flip = false;
            // FASTINFER_GEMM_PACKED=A: A prepacked (weights, as a convolution runs them), B packed on the fly.
            // FASTINFER_GEMM_PACKED=B: B prepacked (a MatMul's weights, or a pixel-rows convolution's), A packed on the fly.
            string packed = Environment.GetEnvironmentVariable("FASTINFER_GEMM_PACKED") ?? "";
            using var pa = packed == "A" ? Sgemm.PackA(false, m, k, a.Floats, k) : null;
            using var pb = packed == "B" ? Sgemm.PackB(false, k, n, b.Floats, n) : null;
            void Call()
            {
                if (pa != null) Sgemm.MultiplyPackedA(pa, n, b.Floats, n, c.Floats, n, default, pool);
                else if (pb != null) Sgemm.MultiplyPacked(m, n, k, 1, a.Floats, k, pb, 0, c.Floats, n, default, pool);
                else Sgemm.Multiply(false, false, m, n, k, 1, a.Floats, k, b.Floats, n, 0, c.Floats, n, default, pool);
            }
            WarmUp(() => { set(flip = !flip); Call(); });
            int inner = Math.Max(1, (int)(1e8 / (2.0 * m * n * k)));
            var on = new List<double>(); var off = new List<double>();
            for (int r = 0; r < 2 * reps; r++)
            {
                bool first = r % 2 == 0;
                set(first);
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < inner; i++) Call();
                (first ? on : off).Add(2.0 * m * n * k / 1e9 / (sw.Elapsed.TotalSeconds / inner));
            }
            set(true);
            Console.WriteLine($"sgemm {m}x{n}x{k} t={threads}: {which} on p50 {Median(on),6:F1} GFLOP/s (best {on.Max(),6:F1}), off p50 {Median(off),6:F1} (best {off.Max(),6:F1})");
        }
    }

    /// <summary>Im2col alone, one thread, for each ResNet layer (or those FASTINFER_PROFILE_LAYER names): p50 µs and GB/s written.</summary>
    public static void Im2ColAlone(int reps)
    {
        string? only = Environment.GetEnvironmentVariable("FASTINFER_PROFILE_LAYER");
        foreach (var (name, s) in ResNet18Layers.All())
        {
            if (only != null && !name.Contains(only, StringComparison.Ordinal)) continue;
            long floats = (long)s.KernelSize * s.OutHeight * s.OutWidth;
            using var x = Fill((long)s.InChannels * s.InHeight * s.InWidth, new Random(3));
            using var col = new AlignedBuffer(floats * 4);
            WarmUp(() => Im2Col.RunRows(s, x.Floats, col.Floats, 0, s.OutHeight));
            var t = new List<double>();
            for (int r = 0; r < reps; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                Im2Col.RunRows(s, x.Floats, col.Floats, 0, s.OutHeight);
                t.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
            double p50 = Median(t);
            Console.WriteLine($"{name,-34} im2col p50 {p50 * 1e6,8:F1} µs  {floats * 4 / p50 / 1e9,6:F1} GB/s written");
        }
    }

    /// <summary>One ResNet layer (FASTINFER_PROFILE_LAYER) serial on one thread alone, then on two threads at once.</summary>
    public static void Twin(int reps)
    {
        string only = Environment.GetEnvironmentVariable("FASTINFER_PROFILE_LAYER") ?? "layer1.0";
        var (name, s) = ResNet18Layers.All().First(l => l.Name.Contains(only));
        double[] last = [];
        double RunOn(int threadCount)
        {
            var times = new double[threadCount];
            var start = new Barrier(threadCount);
            var ths = Enumerable.Range(0, threadCount).Select(i => new Thread(() =>
            {
                using var layer = new LayerData(s, allowWinograd: true);
                for (int r = 0; r < 50; r++) layer.Run(WorkerPool.Serial);
                start.SignalAndWait();
                var t = new List<double>();
                for (int r = 0; r < reps; r++)
                {
                    var sw = Stopwatch.StartNew();
                    layer.Run(WorkerPool.Serial);
                    t.Add(sw.Elapsed.TotalMilliseconds);
                }
                times[i] = Median(t);
            })).ToArray();
            foreach (var th in ths) th.Start();
            foreach (var th in ths) th.Join();
            last = times;
            return times.Average();
        }
        for (int k = 0; k < 3; k++)
        {
            double alone = RunOn(1), twin = RunOn(2);
            // Each thread's own p50 too: a gap between them means one vCPU runs slower while both are busy.
            Console.WriteLine($"{name}: alone p50 {alone:F3} ms, two at once p50 {twin:F3} ms each ({string.Join(" / ", last.Select(t => t.ToString("F3")))})");
        }
    }

    /// <summary>ResNet-18's 3×3 stride-2 max pool (64 planes, 112 → 56) alone, p50 of repeated runs.</summary>
    public static void MaxPool(int threads, int reps)
    {
        using var pool = new WorkerPool(threads);
        var shape = new FastInfer.Kernels.Pooling.PoolShape
        {
            Planes = 64, InHeight = 112, InWidth = 112, OutHeight = 56, OutWidth = 56, KernelHeight = 3, KernelWidth = 3,
            StrideHeight = 2, StrideWidth = 2, DilationHeight = 1, DilationWidth = 1, PadTop = 1, PadLeft = 1, PadBottom = 1, PadRight = 1,
        };
        using var x = Fill(64L * 112 * 112, new Random(3));
        using var y = new AlignedBuffer(64L * 56 * 56 * 4);
        WarmUp(() => FastInfer.Kernels.Pooling.Pool2D.Run(FastInfer.Kernels.Pooling.PoolKind.Max, shape, false, x.Floats, y.Floats, pool));
        var t = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            FastInfer.Kernels.Pooling.Pool2D.Run(FastInfer.Kernels.Pooling.PoolKind.Max, shape, false, x.Floats, y.Floats, pool);
            t.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
        Console.WriteLine($"maxpool 3x3/2 64x112x112 t={threads}: p50 {Median(t):F1} us, min {t.Min():F1} us");
    }

    /// <summary>Per-step speed-up from 1 to <paramref name="threads"/> threads, the two sessions' runs interleaved.</summary>
    public static void ScalingModel(string path, int threads, int reps)
    {
        using var one = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = 1 });
        using var many = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads });
        var inputs = RandomInputs(one, out var tensors);
        var outs = one.Run(inputs);
        WarmUp(() => { one.Run(inputs, outs); many.Run(inputs, outs); });
        StepProfiler.Scaling(one, many, inputs, outs, reps);
        foreach (var o in outs) o.Tensor.Dispose();
        foreach (var t in tensors) t.Dispose();
    }

    /// <summary>
    /// An in-process A/B of a switch read when a session is created (a graph pass, FASTINFER_AB: poolfuse): one session
    /// built with it on, one with it off, run alternately; p50 of each.
    /// </summary>
    public static void AbPlan(string path, int threads, int reps)
    {
        string which = Environment.GetEnvironmentVariable("FASTINFER_AB") ?? "poolfuse";
        Action<bool> set = which switch
        {
            "directtiles" => on => DirectTileConv.Enabled = on,
            "f23" => on => WinogradF23.Enabled = on,
            "f23wide" => on => WinogradF23.F43TilesUpTo = on ? 16 : 4,
            _ => on => FastInfer.Runtime.Optimization.ConvPoolFusion.FuseWindow3 = on,
        };
        // Each session plans on its first Run, so it runs once under its own setting before the switch flips.
        set(true);
        using var on = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads });
        var inputs = RandomInputs(on, out var tensors);
        var outs = on.Run(inputs);
        set(false);
        using var off = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads });
        off.Run(inputs, outs);
        set(true);
        WarmUp(() => { on.Run(inputs, outs); off.Run(inputs, outs); });
        var tOn = new List<double>(); var tOff = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            on.Run(inputs, outs);
            tOn.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            t0 = Stopwatch.GetTimestamp();
            off.Run(inputs, outs);
            tOff.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        Console.WriteLine($"{Path.GetFileName(path)} t={threads}: {which} on p50 {Median(tOn):F4} ms (min {tOn.Min():F4}), off p50 {Median(tOff):F4} ms (min {tOff.Min():F4})");
        foreach (var o in outs) o.Tensor.Dispose();
        foreach (var t in tensors) t.Dispose();
    }

    /// <summary>The kernel switch FASTINFER_AB names, as a setter (true: the default behaviour).</summary>
    private static Action<bool> AbSwitch(string which) => which switch
    {
        "wgroup" => on => WinogradF43.GroupTileRows = on,
        "nextb" => on => GemmDriver.PrefetchNextProduct = on,
        "f23" => on => WinogradF23.Enabled = on,
        "stemphase" => on => DirectSmallConv.SplitPhases = on,
        "steal" => on => WorkerPool.Steal = on,
        "pairtails" => on => GemmDriver.PairTails = on,
        "pfk" => on => GemmDriver.PrefetchNextKBlock = on,
        "tilechan" => on => DirectTileConv.ChannelSplitRatio = on ? ChannelRatioOn : 0,
        "coltail" => on => FastInfer.Kernels.Gemm.MicroKernels.SgemmColumnTailAvx512.Enabled = on,
        "msplit" => on => GemmDriver.BalanceSplit = on,
        "wparts" => on => WinogradF43.SplitByParts = on,
        "bands" => on => Conv2D.SplitByBands = on,
        "pixelparts" => on => Conv2D.SplitPixelRows = on,
        "pixeldepth" => on => Conv2D.SplitPixelRowsByDepth = on,
        "im2colrows" => on => Im2Col.VectorRows = on,
        "stembands" => on => DirectSmallConv.SplitByBands = on,
        "poolpairs" => on => DirectSmallConv.PoolPairsInRegisters = on,
        "packbpf" => on => GemmPacking.PrefetchRowsAhead = on ? PackAhead : 0,
        "stemstore" => on => DirectSmallConv.StoreFromRegisters = on,
        "pool3x3" => on => FastInfer.Kernels.Pooling.Pool2D.Direct3x3Stride2 = on,
        "wbalance" => on => WinogradF43.PartImbalance = on ? 1.05 : 1.15,
        "widenc" => on => GemmDriver.WideNc = on,
        "apf" => on => GemmDriver.PrefetchPrepackedA = on,
        "wsplit" => on => WinogradF43.VectorGroupedSplit = on,
        "inplaceb" => on => GemmDriver.InPlaceB = on,
        "laststore" => on => FastInfer.Kernels.Gemm.MicroKernels.TileStore512.FastLastStore = on,
        "panels" => on => GemmDriver.BalancePanels = on,
        "pfspread" => on => GemmDriver.SpreadPrefetch = on,
        "plainstore" => on => FastInfer.Kernels.Gemm.MicroKernels.TileContext.AllowPlainStores = on,
        "transposed" => on => TransposedProduct.Enabled = on,
        _ => on => GemmBlocking.PrefetchPrepackedB = on,
    };

    private static readonly int PackAhead = GemmPacking.PrefetchRowsAhead;
    private static readonly double ChannelRatioOn = double.TryParse(Environment.GetEnvironmentVariable("FASTINFER_CHANNEL_RATIO"), out double r) ? r : 2;

    private static string ResNetPath => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages",
            "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    public static void ResNet(int threads, int reps) => Compare("ResNet-18", File.ReadAllBytes(ResNetPath), 224, 100f, threads, reps);

    public static void Compare(string name, byte[] model, int size, float scale, int threads, int reps)
    {
        var rnd = new Random(5);
        var input = new float[3 * size * size];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(rnd.NextDouble() - 0.5) * scale;
        using var session = InferenceSession.Create(global::FastInfer.Formats.Onnx.OnnxReader.Load(model),
            new SessionOptions { IntraOpThreads = threads, Winograd = Environment.GetEnvironmentVariable("FASTINFER_WINOGRAD") != "0" });
        using var x = Tensor.FromArray(input, 1, 3, size, size);
        var inputs = new[] { new NamedTensor(session.Inputs[0].Name, x) };
        var outs = session.Run(inputs);
        using var ortOptions = new Ort.SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = Ort.GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var ort = new Ort.InferenceSession(model, ortOptions);
        using var ortIn = Ort.OrtValue.CreateTensorValueFromMemory(input, new long[] { 1, 3, size, size });
        var ortOutData = new float[outs[0].Tensor.AsSpan<float>().Length];
        using var ortOut = Ort.OrtValue.CreateTensorValueFromMemory(ortOutData, outs[0].Tensor.Shape.ToArray().Select(d => (long)d).ToArray());
        using var runOptions = new Ort.RunOptions();
        var inNames = new[] { session.Inputs[0].Name }; var outNames = new[] { session.Outputs[0].Name };
        var ortIns = new[] { ortIn }; var ortOuts = new[] { ortOut };
        WarmUp(() => { session.Run(inputs, outs); ort.Run(runOptions, inNames, ortIns, outNames, ortOuts); });
        var tf = new List<double>(); var to = new List<double>();
        // Blocks of runs per engine with a pause between, as `fastinfer bench` does: ONNX Runtime's workers spin for
        // milliseconds after each run, and a run that directly follows one of its runs shares a core with that spinner
        // (one run each, alternating, measured FastInfer at 2 threads 23 ms instead of 11.5).
        const int block = 5;
        for (int r = 0; r < reps; r += block)
        {
            for (int j = 0; j < block; j++)
            {
                var sw = Stopwatch.StartNew();
                session.Run(inputs, outs);
                tf.Add(sw.Elapsed.TotalMilliseconds);
            }
            Thread.Sleep(100);
            for (int j = 0; j < block; j++)
            {
                var sw = Stopwatch.StartNew();
                ort.Run(runOptions, inNames, ortIns, outNames, ortOuts);
                to.Add(sw.Elapsed.TotalMilliseconds);
            }
            Thread.Sleep(100);
        }
        float maxDiff = 0;
        var mine = outs[0].Tensor.AsSpan<float>();
        for (int i = 0; i < mine.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(mine[i] - ortOutData[i]));
        double pf = Median(tf), po = Median(to);
        Console.WriteLine($"{name} t={threads}: FastInfer p50 {pf:F4} ms (min {tf.Min():F4}), ORT p50 {po:F4} ms (min {to.Min():F4}), ratio {pf / po:F3}; max |diff| {maxDiff:G3}");
        foreach (var o in outs) o.Tensor.Dispose();
    }
}

/// <summary>One ResNet layer's random weights, input, output and workspace, prepared for the algorithm the planner would choose.</summary>
internal sealed unsafe class LayerData : IDisposable
{
    private readonly ConvShape _shape;
    private readonly AlignedBuffer _w, _bias, _x, _y, _workspace;
    private readonly ConvWeights _weights;

    public ConvAlgorithm Algorithm { get; }

    public LayerData(ConvShape s, bool allowWinograd)
    {
        _shape = s;
        var rnd = new Random(2);
        _w = Fill((long)s.OutChannels * s.KernelSize, rnd);
        _bias = Fill(s.OutChannels, rnd);
        _weights = new ConvWeights(s.OutChannels, s.InChannelsPerGroup, s.KernelHeight, s.KernelWidth, 1, _w.Floats, _bias.Floats);
        _x = Fill((long)s.InChannels * s.InHeight * s.InWidth, rnd);
        _y = new AlignedBuffer((long)s.OutChannels * s.OutHeight * s.OutWidth * 4);
        Algorithm = Conv2D.Choose(s, allowWinograd);
        _weights.PrepareFor(Algorithm);
        _workspace = new AlignedBuffer(Math.Max(64, Conv2D.WorkspaceBytes(s, Algorithm)));
    }

    public void Run(WorkerPool pool) => Conv2D.Run(_shape, _weights, _x.Floats, _y.Floats, null, Activation.Relu, _workspace.Floats, pool, Algorithm);

    private static AlignedBuffer Fill(long n, Random rnd)
    {
        var b = new AlignedBuffer(n * 4);
        for (long i = 0; i < n; i++) b.Floats[i] = (float)rnd.NextDouble() - 0.5f;
        return b;
    }

    public void Dispose()
    {
        _weights.Dispose();
        _w.Dispose(); _bias.Dispose(); _x.Dispose(); _y.Dispose(); _workspace.Dispose();
    }
}
