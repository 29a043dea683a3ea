using FastInfer.Ir;
using FastInfer.Runtime.Operators;
using FastInfer.Runtime.Operators.NeuralNet;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// Folds a stride-2 MaxPool — 2×2 without padding (the seed CNN's Conv → Relu → MaxPool), or 3×3 with pads under 3
/// (ResNet's stem) — into the convolution that feeds it: the convolution then writes only the pooled output, never its
/// full-size output (at the seed's 1000×1000×3 that is 127 MB written and read back; ResNet's stem 3.2 MB). The
/// convolution keeps the <see cref="Attribute"/> (and for 3×3 <see cref="PadsAttribute"/>) and plans the pooling itself
/// — inside its kernel where it can (<c>DirectSmallConv</c>), otherwise into a workspace followed by the pooling kernel.
/// </summary>
internal static class ConvPoolFusion
{
    /// <summary>Set on a <c>fastinfer:FusedConv</c> whose output is max-pooled with stride 2: the window, 2 (2×2) or 3 (3×3).</summary>
    public const string Attribute = "fastinfer_maxpool";
    /// <summary>The fused 3×3 pool's pads [top, left, bottom, right].</summary>
    public const string PadsAttribute = "fastinfer_maxpool_pads";

    /// <summary>Whether 3×3 pools are fused; a switch for the benchmarks' A/B (read when a session is created).</summary>
    internal static bool FuseWindow3 = true;

    public static int Run(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var pool in graph.Nodes.ToList())
        {
            if (pool.OpType != "MaxPool" || pool.Domain is not ("" or "ai.onnx") || pool.Inputs.Count != 1) continue;
            if (pool.Outputs.Count != 1 && !(pool.Outputs.Count == 2 && pool.Outputs[1].Length == 0)) continue; // no Indices
            int window = IsPlain2x2Stride2(pool) ? 2 : FuseWindow3 && Is3x3Stride2(pool) ? 3 : 0;
            if (window == 0) continue;
            var conv = index.Producer(pool.Inputs[0]);
            if (conv is null || conv.Domain is not ("" or "ai.onnx" or "fastinfer") || conv.OpType is not ("Conv" or "FusedConv")) continue;
            if (!index.HasSingleReader(pool.Inputs[0]) || conv.HasInput(3) || conv.Attributes.ContainsKey(Attribute)) continue;
            // 2-D only: the pool's kernel has two axes, so the convolution's input is 4-D.
            conv.OpType = "FusedConv";
            conv.Domain = "fastinfer";
            conv.SetAttribute(NodeAttribute.Of(Attribute, (long)window));
            if (window == 3) conv.SetAttribute(NodeAttribute.Of(PadsAttribute, pool.GetInts("pads") ?? new long[4]));
            conv.Outputs[0] = pool.Outputs[0];
            graph.Nodes.Remove(pool);
            fused++;
            index = new GraphIndex(graph);
        }
        return fused;
    }

    /// <summary>kernel [3,3], strides [2,2], explicit pads (4 of them) each under 3 or none, no dilation, floor rounding, row-major indices.</summary>
    private static bool Is3x3Stride2(Node pool)
    {
        if (pool.GetInts("kernel_shape") is not [3, 3]) return false;
        if (pool.GetInts("strides") is not [2, 2]) return false;
        if (pool.GetInts("pads") is { } pads && (pads.Length != 4 || pads.Any(p => p is < 0 or > 2))) return false;
        if (pool.GetInts("dilations") is { } d && d.Any(v => v != 1)) return false;
        if (pool.GetInt("ceil_mode", 0) != 0 || pool.GetInt("storage_order", 0) != 0) return false;
        return pool.GetString("auto_pad", "NOTSET") is "NOTSET" or "VALID";
    }

    /// <summary>kernel [2,2], strides [2,2], no padding, no dilation, floor rounding, row-major indices.</summary>
    private static bool IsPlain2x2Stride2(Node pool)
    {
        if (pool.GetInts("kernel_shape") is not [2, 2]) return false;
        if (pool.GetInts("strides") is not [2, 2]) return false;
        if (pool.GetInts("pads") is { } pads && pads.Any(p => p != 0)) return false;
        if (pool.GetInts("dilations") is { } d && d.Any(v => v != 1)) return false;
        if (pool.GetInt("ceil_mode", 0) != 0 || pool.GetInt("storage_order", 0) != 0) return false;
        return pool.GetString("auto_pad", "NOTSET") is "NOTSET" or "VALID";
    }
}
