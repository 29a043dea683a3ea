using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>Small queries the pattern-fusion passes share: constants from initializers or Constant nodes, op checks.</summary>
internal static class PatternHelpers
{
    public static bool Is(Node? node, string opType) => node is not null && node.OpType == opType && node.Domain is "" or "ai.onnx";

    /// <summary>A constant value: an initializer, or the tensor of a Constant node.</summary>
    public static TensorData? ConstantTensor(GraphIndex index, string name)
    {
        if (name.Length == 0) return null;
        if (index.Constant(name) is { } init) return init;
        var producer = index.Producer(name);
        return Is(producer, "Constant") && producer!.Attribute("value") is { Tensor: { } t } ? t : null;
    }

    /// <summary>A float32 constant holding one value (any rank), or null.</summary>
    public static float? ScalarFloat(GraphIndex index, string name)
    {
        var t = ConstantTensor(index, name);
        if (t is null || t.ElementCount != 1) return null;
        if (t.ElementType == DataType.Float) return t.AsSpan<float>()[0];
        if (t.ElementType == DataType.Double) return (float)t.AsSpan<double>()[0];
        return null;
    }

    /// <summary>The other input of a two-input node, given one of them; null when the node does not read it.</summary>
    public static string? Other(Node node, string known) =>
        node.Inputs.Count != 2 ? null : node.Inputs[0] == known ? node.Inputs[1] : node.Inputs[1] == known ? node.Inputs[0] : null;

    /// <summary>The single reader of a value, when there is exactly one and it is not a graph output.</summary>
    public static Node? SingleReader(GraphIndex index, string value) => index.HasSingleReader(value) ? index.Consumers(value)[0] : null;

    /// <summary>Whether a ReduceMean reduces only the last axis and keeps dims (axes as attribute or constant input).</summary>
    public static bool IsLastAxisMean(GraphIndex index, Node node)
    {
        if (!Is(node, "ReduceMean")) return false;
        if (node.Attribute("keepdims") is { Int: 0 }) return false;
        long[]? axes = node.Attribute("axes")?.Ints;
        if (axes is null && node.Inputs.Count > 1 && node.Inputs[1].Length > 0)
        {
            var t = ConstantTensor(index, node.Inputs[1]);
            if (t is null || t.ElementType != DataType.Int64) return false;
            axes = t.AsSpan<long>().ToArray();
        }
        return axes is { Length: 1 } && axes[0] == -1;
    }
}
