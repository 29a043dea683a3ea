using FastInfer.Ir;
using static FastInfer.Runtime.Optimization.PatternHelpers;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// The decomposed LayerNorm that PyTorch and TensorFlow exports produce over the last axis,
/// <c>d = x − ReduceMean(x); y = d / Sqrt(ReduceMean(Pow(d, 2)) + ε) · γ + β</c>, becomes one
/// <c>fastinfer:LayerNorm(x, γ, β)</c> that normalizes each row in a single pass.
/// </summary>
internal static class LayerNormFusion
{
    public static int Run(ModelGraph graph)
    {
        int fused = 0;
        var index = new GraphIndex(graph);
        foreach (var div in graph.Nodes.ToList())
        {
            if (!Is(div, "Div") || div.Inputs.Count != 2 || !graph.Nodes.Contains(div)) continue;
            if (Match(index, div) is not { } m) continue;
            var node = new Node
            {
                OpType = "LayerNorm", Domain = "fastinfer", Name = m.Sub.Name.Length > 0 ? m.Sub.Name + "/LayerNorm" : "",
                Inputs = { m.X, m.Gamma, m.Beta },
                Outputs = { m.Output },
            };
            node.SetAttribute(NodeAttribute.Of("axis", -1L));
            node.SetAttribute(NodeAttribute.Of("epsilon", m.Epsilon));
            int at = graph.Nodes.IndexOf(m.Sub);
            foreach (var n in m.Removed) graph.Nodes.Remove(n);
            graph.Nodes.Insert(Math.Min(at, graph.Nodes.Count), node);
            fused++;
            index = new GraphIndex(graph);
        }
        return fused;
    }

    private sealed record Pattern(string X, string Gamma, string Beta, float Epsilon, string Output, Node Sub, Node[] Removed);

    private static Pattern? Match(GraphIndex index, Node div)
    {
        string d = div.Inputs[0], s = div.Inputs[1];
        var sub = index.Producer(d);
        var sqrt = index.Producer(s);
        if (!Is(sub, "Sub") || !Is(sqrt, "Sqrt") || !index.HasSingleReader(s)) return null;
        var mean = index.Producer(sub!.Inputs[1]);
        string x = sub.Inputs[0];
        if (mean is null || !IsLastAxisMean(index, mean) || mean.Inputs[0] != x || !index.HasSingleReader(sub.Inputs[1])) return null;
        // d feeds exactly the Pow and the Div.
        var readers = index.Consumers(d);
        if (index.IsGraphOutput(d) || readers.Count != 2) return null;
        var pow = readers.FirstOrDefault(r => r != div);
        if (!Is(pow, "Pow") || pow!.Inputs[0] != d || ScalarFloat(index, pow.Inputs[1]) != 2f || !index.HasSingleReader(pow.Outputs[0])) return null;
        var varMean = SingleReader(index, pow.Outputs[0]);
        if (varMean is null || !IsLastAxisMean(index, varMean) || !index.HasSingleReader(varMean.Outputs[0])) return null;
        var addEps = SingleReader(index, varMean.Outputs[0]);
        if (!Is(addEps, "Add") || Other(addEps!, varMean.Outputs[0]) is not { } epsName || ScalarFloat(index, epsName) is not { } eps) return null;
        if (index.Producer(sqrt!.Inputs[0]) != addEps || !index.HasSingleReader(addEps!.Outputs[0])) return null;
        // Scale and shift by constants: Mul(γ) then Add(β).
        var mul = SingleReader(index, div.Outputs[0]);
        if (!Is(mul, "Mul") || Other(mul!, div.Outputs[0]) is not { } gamma || ConstantTensor(index, gamma) is not { ElementType: DataType.Float }) return null;
        var add = SingleReader(index, mul!.Outputs[0]);
        if (!Is(add, "Add") || Other(add!, mul.Outputs[0]) is not { } beta || ConstantTensor(index, beta) is not { ElementType: DataType.Float }) return null;
        var g = ConstantTensor(index, gamma)!;
        var b = ConstantTensor(index, beta)!;
        if (g.Dims.Length != 1 || b.Dims.Length != 1 || g.Dims[0] != b.Dims[0]) return null;
        // γ and β must be initializers for the fused node to read them (Constant nodes are left in place and still run).
        return new Pattern(x, gamma, beta, eps, add!.Outputs[0], sub, new[] { mean, sub, pow, varMean, addEps, sqrt!, div, mul, add });
    }
}
