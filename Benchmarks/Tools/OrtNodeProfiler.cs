using System.Text.Json;
using Ort = Microsoft.ML.OnnxRuntime;

namespace FastInfer.Benchmarks.Tools;

/// <summary>
/// ONNX Runtime's own per-node times for a model (its built-in profiler), printed in the same form as
/// <see cref="StepProfiler"/> so each FastInfer step can be set against the node ONNX Runtime ran for it
/// (after its graph optimizations: fused or NCHWc-reordered nodes show under ONNX Runtime's names).
/// </summary>
public static class OrtNodeProfiler
{
    public static void Run(string path, int threads, int reps)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"fastinfer-ort-profile-{Environment.ProcessId}");
        using var options = new Ort.SessionOptions { IntraOpNumThreads = threads, EnableProfiling = true, ProfileOutputPathPrefix = prefix };
        using var session = new Ort.InferenceSession(path, options);
        var rnd = new Random(5);
        // Symbolic dims: batch 1, the others Profiler.SequenceLength; int64 inputs take Profiler.TokenValue.
        int seq = Profiler.SequenceLength;
        var inputs = session.InputMetadata.Select(kv =>
        {
            var shape = kv.Value.Dimensions.Select((d, i) => d >= 0 ? d : i == 0 ? 1 : seq).ToArray();
            int count = shape.Aggregate(1, (a, d) => a * d);
            if (kv.Value.ElementType == typeof(long))
            {
                var ids = new long[count];
                for (int k = 0; k < count; k++) ids[k] = Profiler.TokenValue(kv.Key, rnd);
                return Ort.NamedOnnxValue.CreateFromTensor(kv.Key, new Ort.Tensors.DenseTensor<long>(ids, shape));
            }
            var data = new float[count];
            for (int k = 0; k < data.Length; k++) data[k] = (float)rnd.NextDouble();
            return Ort.NamedOnnxValue.CreateFromTensor(kv.Key, new Ort.Tensors.DenseTensor<float>(data, shape));
        }).ToList();
        long end = System.Diagnostics.Stopwatch.GetTimestamp() + 2 * System.Diagnostics.Stopwatch.Frequency;
        for (int i = 0; i < reps || System.Diagnostics.Stopwatch.GetTimestamp() < end; i++) session.Run(inputs).Dispose();
        string file = session.EndProfiling();

        // Node events: name "<node>_kernel_time", dur in µs, args.op_name. Keep the last `reps` of each node.
        var times = new Dictionary<string, (string Op, List<double> Us)>();
        var order = new List<string>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node") continue;
                string name = e.GetProperty("name").GetString() ?? "";
                if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                name = name[..^"_kernel_time".Length];
                string op = e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var o) ? o.GetString() ?? "" : "";
                if (!times.TryGetValue(name, out var entry)) { times[name] = entry = (op, new List<double>()); order.Add(name); }
                entry.Us.Add(e.GetProperty("dur").GetDouble());
            }
        File.Delete(file);
        double total = 0;
        foreach (string name in order)
        {
            var (op, us) = times[name];
            var last = us.Skip(Math.Max(0, us.Count - reps)).OrderBy(v => v).ToList();
            double p50 = last[last.Count / 2] / 1000.0;
            total += p50;
            Console.WriteLine($"  {op,-22} {name,-40} p50 {p50,9:F3} ms  min {last[0] / 1000.0,9:F3} ms");
        }
        Console.WriteLine($"ONNX Runtime nodes: sum of p50 {total:F3} ms ({threads} thread(s))");
    }
}
