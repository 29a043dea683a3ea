using FastInfer.Ir;
using FastInfer.Runtime.Operators.NeuralNet;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// Folds what follows a convolution into its GEMM epilogue: a residual Add (ResNet's skip connection) and
/// then an activation (Relu, Clip, LeakyRelu). The result is <c>fastinfer:FusedConv</c>: Conv's inputs,
/// an optional residual as input 3, and the activation as attributes. An activation after a Gemm is folded
/// the same way (the Gemm keeps its type and gains the attributes).
/// </summary>
internal static class ConvFusion
{
    public static int FuseResidualAdd(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var add in graph.Nodes.ToList())
        {
            if (add.OpType != "Add" || add.Domain is not ("" or "ai.onnx") || add.Inputs.Count != 2 || add.Outputs.Count < 1) continue;
            for (int side = 0; side < 2; side++)
            {
                string convOut = add.Inputs[side], other = add.Inputs[1 - side];
                var conv = index.Producer(convOut);
                if (conv is null || !IsPlainConv(conv) || conv.Inputs.Count > 3 && conv.Inputs[3].Length > 0) continue;
                if (!index.HasSingleReader(convOut) || other == convOut || index.Constant(other) is not null || other.Length == 0) continue;
                MakeFused(conv);
                while (conv.Inputs.Count < 4) conv.Inputs.Add("");
                conv.Inputs[3] = other;
                conv.Outputs[0] = add.Outputs[0];
                graph.Nodes.Remove(add);
                fused++;
                index = new GraphIndex(graph);
                break;
            }
        }
        return fused;
    }

    public static int FuseActivation(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var act in graph.Nodes.ToList())
        {
            if (act.Domain is not ("" or "ai.onnx") || act.Inputs.Count < 1 || act.Outputs.Count < 1) continue;
            var conv = index.Producer(act.Inputs[0]);
            // A Gemm (a fully connected layer) keeps its op type: GemmOperator reads the activation attributes too.
            bool gemm = conv is { OpType: "Gemm", Domain: "" or "ai.onnx" };
            if (conv is null || !(IsPlainConv(conv) || gemm) || !index.HasSingleReader(act.Inputs[0])) continue;
            if (conv.Attributes.ContainsKey(FusedActivation.Kind)) continue;
            (string Kind, float Alpha, float Beta)? folded = act.OpType switch
            {
                "Relu" => ("Relu", 0f, 0f),
                "LeakyRelu" => ("LeakyRelu", act.Attributes.TryGetValue("alpha", out var a) ? a.Float : 0.01f, 0f),
                "Clip" when ClipBounds(act, index) is var (lo, hi) => ("Clip", lo, hi),
                _ => null,
            };
            if (folded is not { } f) continue;
            if (!gemm) MakeFused(conv);
            FusedActivation.Write(conv, f.Kind, f.Alpha, f.Beta);
            conv.Outputs[0] = act.Outputs[0];
            graph.Nodes.Remove(act);
            fused++;
            index = new GraphIndex(graph);
        }
        return fused;
    }

    private static bool IsPlainConv(Node node) =>
        node.OpType == "Conv" && node.Domain is "" or "ai.onnx"
        || node.OpType == "FusedConv" && node.Domain == "fastinfer";

    private static void MakeFused(Node conv)
    {
        conv.OpType = "FusedConv";
        conv.Domain = "fastinfer";
    }

    /// <summary>Clip's bounds: attributes before opset 11, constant inputs after; null when not constant.</summary>
    private static (float, float)? ClipBounds(Node clip, GraphIndex index)
    {
        float lo = clip.Attributes.TryGetValue("min", out var mn) ? mn.Float : float.NegativeInfinity;
        float hi = clip.Attributes.TryGetValue("max", out var mx) ? mx.Float : float.PositiveInfinity;
        for (int k = 1; k <= 2 && k < clip.Inputs.Count; k++)
        {
            if (clip.Inputs[k].Length == 0) continue;
            var c = index.Constant(clip.Inputs[k]);
            if (c is null || c.ElementType != DataType.Float || c.ElementCount != 1) return null;
            if (k == 1) lo = c.AsSpan<float>()[0]; else hi = c.AsSpan<float>()[0];
        }
        return (lo, hi);
    }
}
