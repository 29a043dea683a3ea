using FastInfer.Ir;
using static FastInfer.Runtime.Optimization.PatternHelpers;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// Scaled dot-product attention as BERT-style exports spell it becomes one <c>fastinfer:Attention</c> node:
/// <code>
///   Q [b,s,h,d] → Transpose(0,2,1,3) ┐
///   K [b,s,h,d] → Transpose(0,2,3,1) ┴ MatMul → (Div c | Mul c)? → (Add mask)? → Softmax(last axis) ┐
///   V [b,s,h,d] → Transpose(0,2,1,3) ─────────────────────────────────────────────────────────────── MatMul → Transpose(0,2,1,3)
/// </code>
/// The fused kernel reads the heads in place and keeps each head's scores in cache between the two products, so the
/// four head Transposes, the scaling and mask passes and the softmax pass over memory disappear, and a thread runs
/// whole heads without waiting at a barrier between steps. Every intermediate must have that one reader; anything
/// else (attention probabilities as a graph output, another perm) leaves the graph as it is. CPU sessions only.
/// </summary>
internal static class AttentionFusion
{
    private static readonly long[] HeadsFirst = { 0, 2, 1, 3 };
    private static readonly long[] KeysTransposed = { 0, 2, 3, 1 };

    public static int Run(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var softmax in graph.Nodes.ToList())
        {
            if (!Is(softmax, "Softmax") || !graph.Nodes.Contains(softmax)) continue;
            if (Match(index, graph.Opset, softmax) is not { } m) continue;
            var node = new Node
            {
                OpType = "Attention", Domain = "fastinfer", Name = softmax.Name.Length > 0 ? softmax.Name + "/attention" : "",
                Inputs = { m.Q, m.K, m.V }, Outputs = { m.Output },
            };
            if (m.Mask is not null) node.Inputs.Add(m.Mask);
            node.SetAttribute(NodeAttribute.Of("scale", m.Scale));
            // In the place of the last node it replaces: every producer it reads comes earlier, every reader later.
            foreach (var n in m.Removed) if (n != m.Last) graph.Nodes.Remove(n);
            graph.Nodes[graph.Nodes.IndexOf(m.Last)] = node;
            fused++;
            index = new GraphIndex(graph);
        }
        return fused;
    }

    private sealed record Pattern(string Q, string K, string V, string? Mask, float Scale, string Output, Node[] Removed, Node Last);

    private static Pattern? Match(GraphIndex index, long opset, Node softmax)
    {
        // Softmax over the last of four axes (before opset 13 the axis must be named: its default, 1, is not that).
        long? axis = softmax.Attribute("axis")?.Int;
        if (axis is null ? opset < 13 : axis is not (-1 or 3)) return null;
        var removed = new List<Node> { softmax };

        // (Add mask)? in front of the softmax.
        string scores = softmax.Inputs[0];
        string? mask = null;
        var producer = Single(index, scores);
        if (Is(producer, "Add") && producer!.Inputs.Count == 2)
        {
            int side = ScaledProduct(index, producer.Inputs[0]) is not null ? 0 : ScaledProduct(index, producer.Inputs[1]) is not null ? 1 : -1;
            if (side < 0) return null;
            mask = producer.Inputs[1 - side];
            if (mask.Length == 0) return null;
            removed.Add(producer);
            scores = producer.Inputs[side];
        }
        if (ScaledProduct(index, scores) is not { } product) return null;
        removed.AddRange(product.Removed);

        // Q·Kᵀ from the head Transposes.
        var qt = Single(index, product.MatMul.Inputs[0]);
        var kt = Single(index, product.MatMul.Inputs[1]);
        if (!IsTranspose(qt, HeadsFirst) || !IsTranspose(kt, KeysTransposed)) return null;

        // softmax · V, then the heads back in place.
        var pv = index.HasSingleReader(softmax.Outputs[0]) ? index.Consumers(softmax.Outputs[0])[0] : null;
        if (!Is(pv, "MatMul") || pv!.Inputs.Count != 2 || pv.Inputs[0] != softmax.Outputs[0]) return null;
        var vt = Single(index, pv.Inputs[1]);
        if (!IsTranspose(vt, HeadsFirst)) return null;
        var back = index.HasSingleReader(pv.Outputs[0]) ? index.Consumers(pv.Outputs[0])[0] : null;
        if (!IsTranspose(back, HeadsFirst)) return null;
        if (mask == qt!.Outputs[0] || mask == kt!.Outputs[0] || mask == vt!.Outputs[0]) return null;

        removed.AddRange(new[] { qt, kt!, vt!, pv, back! });
        return new Pattern(qt.Inputs[0], kt!.Inputs[0], vt!.Inputs[0], mask, product.Scale, back!.Outputs[0], removed.ToArray(), back);
    }

    private sealed record Product(Node MatMul, float Scale, Node[] Removed);

    /// <summary>MatMul, MatMul / c or MatMul · c (c a scalar constant), each value with one reader.</summary>
    private static Product? ScaledProduct(GraphIndex index, string value)
    {
        var node = Single(index, value);
        if (Is(node, "MatMul") && node!.Inputs.Count == 2) return new Product(node, 1f, new[] { node });
        if (node is null || node.Inputs.Count != 2 || !(Is(node, "Div") || Is(node, "Mul"))) return null;
        int side = Is(node, "Div") ? 0 : ScalarFloat(index, node.Inputs[1]) is not null ? 0 : 1;
        if (ScalarFloat(index, node.Inputs[1 - side]) is not { } c || c == 0 || !float.IsFinite(c)) return null;
        var mm = Single(index, node.Inputs[side]);
        if (!Is(mm, "MatMul") || mm!.Inputs.Count != 2) return null;
        return new Product(mm, Is(node, "Div") ? 1f / c : c, new[] { node, mm });
    }

    /// <summary>The producer of a value that only one node reads (so fusing it away changes nothing else).</summary>
    private static Node? Single(GraphIndex index, string value) =>
        value.Length > 0 && index.HasSingleReader(value) ? index.Producer(value) : null;

    private static bool IsTranspose(Node? node, long[] perm) =>
        Is(node, "Transpose") && node!.Inputs.Count == 1 && node.Attribute("perm")?.Ints is { } p && p.AsSpan().SequenceEqual(perm);
}
