using FastInfer.Ir;
using static FastInfer.Runtime.Optimization.PatternHelpers;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// The exact GELU as exports spell it, <c>0.5 · x · (1 + Erf(x / √2))</c> (division by √2 or multiplication by
/// 1/√2; the 0.5 applied to x, to the sum, or to the product), becomes one <c>fastinfer:Gelu</c> node.
/// </summary>
internal static class GeluFusion
{
    private const float InvSqrt2 = 0.70710678118654752f;

    public static int Run(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var erf in graph.Nodes.ToList())
        {
            if (!Is(erf, "Erf") || !graph.Nodes.Contains(erf)) continue;
            if (Match(index, erf) is not { } m) continue;
            var node = new Node { OpType = "Gelu", Domain = "fastinfer", Name = erf.Name, Inputs = { m.X }, Outputs = { m.Output } };
            int at = graph.Nodes.IndexOf(m.Removed[0]);
            foreach (var n in m.Removed) graph.Nodes.Remove(n);
            graph.Nodes.Insert(Math.Min(at, graph.Nodes.Count), node);
            fused++;
            index = new GraphIndex(graph);
        }
        return fused;
    }

    private sealed record Pattern(string X, string Output, Node[] Removed);

    private static bool Near(float? v, float target) => v is { } f && Math.Abs(f - target) <= 1e-4f * Math.Abs(target);

    private static Pattern? Match(GraphIndex index, Node erf)
    {
        // x / √2 or x · (1/√2) feeding the Erf.
        var scale = index.Producer(erf.Inputs[0]);
        if (scale is null || !index.HasSingleReader(erf.Inputs[0]) || scale.Inputs.Count != 2) return null;
        string x;
        if (Is(scale, "Div") && Near(ScalarFloat(index, scale.Inputs[1]), 1 / InvSqrt2)) x = scale.Inputs[0];
        else if (Is(scale, "Mul") && Near(ScalarFloat(index, scale.Inputs[1]), InvSqrt2)) x = scale.Inputs[0];
        else if (Is(scale, "Mul") && Near(ScalarFloat(index, scale.Inputs[0]), InvSqrt2)) x = scale.Inputs[1];
        else return null;
        // 1 + erf
        var plusOne = SingleReader(index, erf.Outputs[0]);
        if (!Is(plusOne, "Add") || !Near(ScalarFloat(index, Other(plusOne!, erf.Outputs[0]) ?? ""), 1f)) return null;
        string sum = plusOne!.Outputs[0];
        var next = SingleReader(index, sum);
        if (!Is(next, "Mul")) return null;
        string? other = Other(next!, sum);
        if (other is null) return null;
        if (other == x)
        {
            // (x · (1 + erf)) · 0.5
            var half = SingleReader(index, next!.Outputs[0]);
            if (!Is(half, "Mul") || !Near(ScalarFloat(index, Other(half!, next.Outputs[0]) ?? ""), 0.5f)) return null;
            return new Pattern(x, half!.Outputs[0], new[] { scale, erf, plusOne, next, half });
        }
        if (Near(ScalarFloat(index, other), 0.5f))
        {
            // x · ((1 + erf) · 0.5)
            var last = SingleReader(index, next!.Outputs[0]);
            if (!Is(last, "Mul") || Other(last!, next.Outputs[0]) != x) return null;
            return new Pattern(x, last!.Outputs[0], new[] { scale, erf, plusOne, next, last });
        }
        // (x · 0.5) · (1 + erf)
        var halfX = index.Producer(other);
        if (!Is(halfX, "Mul") || !index.HasSingleReader(other) || Other(halfX!, x) is not { } h || !Near(ScalarFloat(index, h), 0.5f)) return null;
        return new Pattern(x, next!.Outputs[0], new[] { scale, erf, plusOne, halfX!, next });
    }
}
