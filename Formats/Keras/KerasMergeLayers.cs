using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>Add, Subtract, Multiply, Average, Maximum, Minimum and Concatenate.</summary>
internal sealed partial class KerasConverter
{
    /// <summary>Brings all inputs to one layout: unchanged if they agree, else channels-first (rank 3+) or plain.</summary>
    private List<KTensor> Conform(KerasLayer layer, List<KTensor> xs, bool allowFlat)
    {
        if (xs.Count < 2) throw Error(layer, $"expects at least 2 inputs, got {xs.Count}");
        int rank = xs[0].Rank;
        if (xs.Any(t => t.Rank != rank)) throw Error(layer, "inputs of different ranks are not supported");
        var l0 = xs[0].Layout;
        bool same = xs.All(t => t.Layout == l0) &&
            (l0 != Layout.FlatChannelsFirst || (allowFlat && xs.All(t => t.FlatSource!.AsSpan().SequenceEqual(xs[0].FlatSource))));
        if (same) return xs;
        if (rank >= 3 && xs.Any(t => t.Layout == Layout.ChannelsFirst)) return xs.Select(B.ChannelsFirst).ToList();
        return xs.Select(B.Plain).ToList();
    }

    private KTensor Merge(KerasLayer layer, List<KTensor> inputs, string scope)
    {
        var xs = Conform(layer, inputs, allowFlat: true);
        var shape = xs[0].Shape.ToArray();
        for (int i = 0; i < shape.Length; i++)
            foreach (var t in xs)
                if (t.Shape[i] >= 0) { if (shape[i] >= 0 && shape[i] != t.Shape[i] && shape[i] != 1 && t.Shape[i] != 1) throw Error(layer, $"incompatible input shapes {xs[0].ShapeText} and {t.ShapeText}"); shape[i] = Math.Max(shape[i], t.Shape[i]); }
        var names = xs.Select(t => t.Value).ToList();
        string y = layer.ClassName switch
        {
            "Subtract" when names.Count != 2 => throw Error(layer, "expects exactly 2 inputs"),
            "Subtract" => B.Node("Sub", scope, names),
            "Add" => Chain("Add", names, scope),
            "Multiply" => Chain("Mul", names, scope),
            "Average" => B.Node("Mul", scope, [Chain("Add", names, scope), B.Scalar(scope + "/inv_n", 1f / names.Count)]),
            "Maximum" => B.Node("Max", scope, names),
            "Minimum" => B.Node("Min", scope, names),
            _ => throw Error(layer, "unsupported merge"),
        };
        return xs[0] with { Value = y, Shape = shape };
    }

    private string Chain(string op, List<string> names, string scope)
    {
        string acc = names[0];
        for (int i = 1; i < names.Count; i++) acc = B.Node(op, scope, [acc, names[i]]);
        return acc;
    }

    private KTensor Concatenate(KerasLayer layer, List<KTensor> inputs, string scope)
    {
        var xs = Conform(layer, inputs, allowFlat: false);
        int rank = xs[0].Rank;
        int axis = NormalizeAxis(KerasJson.Int(layer.Config, -1, "axis", "concat_axis"), rank, layer, File);
        if (axis == 0) throw Error(layer, "concatenation along the batch axis is not supported");
        var shape = xs[0].Shape.ToArray();
        shape[axis] = 0;
        foreach (var t in xs)
        {
            for (int i = 0; i < rank; i++)
                if (i != axis && t.Shape[i] >= 0 && xs[0].Shape[i] >= 0 && t.Shape[i] != xs[0].Shape[i])
                    throw Error(layer, $"input shapes {xs[0].ShapeText} and {t.ShapeText} differ off the concat axis");
            shape[axis] = shape[axis] < 0 || t.Shape[axis] < 0 ? -1 : shape[axis] + t.Shape[axis];
        }
        int physical = KerasLayout.PhysicalAxis(axis, rank, xs[0].Layout);
        string y = B.Node("Concat", scope, xs.Select(t => t.Value).ToList(), NodeAttribute.Of("axis", (long)physical));
        return new KTensor(y, shape, xs[0].Layout);
    }
}
