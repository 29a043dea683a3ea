using FastInfer.Ir;
using FastInfer.Runtime.Operators;
using FastInfer.Runtime.Operators.NeuralNet;
using static FastInfer.Runtime.Optimization.PatternHelpers;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// Moves the element-wise work that follows a <c>fastinfer:MatMulAdd</c> into its GEMM epilogue, so the product is
/// finished while it is still in registers instead of in another pass over memory (a transformer layer has three):
/// <list type="bullet">
/// <item>an Add of a non-constant tensor (the residual connection) becomes the node's input 3, added after the bias;</item>
/// <item>an exact GELU (<c>fastinfer:Gelu</c>, or ONNX Gelu without the tanh approximation) becomes its activation.</item>
/// </list>
/// Only where the MatMulAdd's result has no other reader. A residual whose shape turns out to broadcast is still
/// added correctly, after the GEMM (see <c>MatMulOperator</c>).
/// </summary>
internal static class MatMulEpilogueFusion
{
    public static int Run(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var mm in graph.Nodes.ToList())
        {
            if (mm.OpType != "MatMulAdd" || mm.Domain != "fastinfer" || !graph.Nodes.Contains(mm)) continue;
            // Fold in order: residual first (it is added before the activation), then an activation.
            while (FuseOne(graph, index, mm)) { fused++; index = new GraphIndex(graph); }
        }
        return fused;
    }

    private static bool FuseOne(ModelGraph graph, GraphIndex index, Node mm)
    {
        if (mm.GetString(FusedActivation.Kind, "") != "") return false; // nothing may follow the activation
        var next = SingleReader(index, mm.Outputs[0]);
        if (next is null) return false;
        if (mm.Inputs.Count == 3 && Is(next, "Add") && next.Inputs.Count == 2)
        {
            string? other = Other(next, mm.Outputs[0]);
            if (other is null || other.Length == 0 || other == mm.Outputs[0] || index.Constant(other) is not null) return false;
            mm.Inputs.Add(other);
            return Absorb(graph, mm, next);
        }
        bool exactGelu = (next.OpType == "Gelu" && next.Domain == "fastinfer")
            || (Is(next, "Gelu") && next.GetString("approximate", "none") == "none");
        if (exactGelu && next.Inputs.Count == 1)
        {
            FusedActivation.Write(mm, "Gelu");
            return Absorb(graph, mm, next);
        }
        return false;
    }

    /// <summary>The MatMulAdd takes over <paramref name="absorbed"/>'s output; the absorbed node goes.</summary>
    private static bool Absorb(ModelGraph graph, Node mm, Node absorbed)
    {
        mm.Outputs[0] = absorbed.Outputs[0];
        graph.Nodes.Remove(absorbed);
        return true;
    }
}
