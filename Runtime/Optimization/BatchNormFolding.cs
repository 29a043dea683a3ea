using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// Conv → BatchNormalization (inference) becomes one Conv with scaled filters and a shifted bias:
/// W'[m] = W[m]·s[m], b'[m] = (b[m] − mean[m])·s[m] + β[m], with s = γ / √(var + ε).
/// New initializers are written; the originals are left for any other reader.
/// </summary>
internal static class BatchNormFolding
{
    public static int Run(ModelGraph graph)
    {
        int folded = 0;
        var index = new GraphIndex(graph);
        foreach (var bn in graph.Nodes.ToList())
        {
            if (bn.OpType != "BatchNormalization" || bn.Domain is not ("" or "ai.onnx") || bn.Inputs.Count < 5) continue;
            if (bn.Outputs.Skip(1).Any(o => o.Length > 0) || bn.Attributes.TryGetValue("training_mode", out var tm) && tm.Int != 0) continue;
            var conv = index.Producer(bn.Inputs[0]);
            if (conv is null || conv.OpType != "Conv" || conv.Domain is not ("" or "ai.onnx") || conv.Inputs.Count < 2 || !index.HasSingleReader(bn.Inputs[0])) continue;
            var w = index.Constant(conv.Inputs[1]);
            var b = conv.Inputs.Count > 2 ? index.Constant(conv.Inputs[2]) : null;
            if (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 && b is null) continue;
            var stats = bn.Inputs.Skip(1).Take(4).Select(index.Constant).ToArray();
            if (w is null || w.ElementType != DataType.Float || w.Dims.Length < 3 || stats.Any(t => t is null || t.ElementType != DataType.Float)) continue;
            int m = checked((int)w.Dims[0]);
            if (stats.Any(t => t!.ElementCount != m) || b is not null && (b.ElementType != DataType.Float || b.ElementCount != m)) continue;

            float eps = bn.Attributes.TryGetValue("epsilon", out var e) ? e.Float : 1e-5f;
            var gamma = stats[0]!.AsSpan<float>(); var beta = stats[1]!.AsSpan<float>();
            var mean = stats[2]!.AsSpan<float>(); var variance = stats[3]!.AsSpan<float>();
            var source = w.AsSpan<float>();
            int perFilter = source.Length / m;
            // Folded straight into graph-owned native memory: no managed copy of every filter (45 MB for ResNet-18)
            // to allocate, zero and copy again during a cold start.
            var wBlock = graph.Allocate((long)source.Length * sizeof(float), zero: false);
            var bBlock = graph.Allocate((long)m * sizeof(float), zero: false);
            Fold(source, b is null ? default : b.AsSpan<float>(), gamma, beta, mean, variance, eps, perFilter,
                MemoryMarshal.Cast<byte, float>(wBlock.Bytes), MemoryMarshal.Cast<byte, float>(bBlock.Bytes));
            string wName = Unique(graph, conv.Inputs[1] + "_bn"), bName = Unique(graph, wName + "_bias");
            graph.Initializers[wName] = new TensorData(wName, DataType.Float, w.Dims, wBlock.Pointer, wBlock.ByteLength);
            graph.Initializers[bName] = new TensorData(bName, DataType.Float, new long[] { m }, bBlock.Pointer, bBlock.ByteLength);
            conv.Inputs[1] = wName;
            while (conv.Inputs.Count < 3) conv.Inputs.Add("");
            conv.Inputs[2] = bName;
            conv.Outputs[0] = bn.Outputs[0];
            graph.Nodes.Remove(bn);
            folded++;
            index = new GraphIndex(graph);
        }
        return folded;
    }

    /// <summary>W'[k] = W[k]·s_k and b'[k] = (b[k] − mean[k])·s_k + beta[k], s_k = gamma[k]/√(var[k] + ε). Compiled optimized
    /// from the start: it runs once per session, over every filter of the model, in the middle of a cold start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fold(ReadOnlySpan<float> source, ReadOnlySpan<float> bias, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float eps, int perFilter, Span<float> newW, Span<float> newB)
    {
        for (int k = 0; k < newB.Length; k++)
        {
            // In double: the fold must not add rounding the unfused graph does not have.
            double s = gamma[k] / Math.Sqrt((double)variance[k] + eps);
            for (int j = 0; j < perFilter; j++) newW[k * perFilter + j] = (float)(source[k * perFilter + j] * s);
            double b = bias.IsEmpty ? 0 : bias[k];
            newB[k] = (float)((b - mean[k]) * s + beta[k]);
        }
    }

    internal static string Unique(ModelGraph graph, string name)
    {
        string candidate = name;
        for (int i = 1; graph.Initializers.ContainsKey(candidate); i++) candidate = name + "_" + i;
        return candidate;
    }
}
