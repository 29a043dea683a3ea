using FastInfer.Ir;

namespace FastInfer.Gpu.Execution;

/// <summary>Attribute reads with ONNX defaults (the GPU assembly's own; the Runtime's helpers are internal).</summary>
internal static class NodeAttributes
{
    public static long Int(this Node node, string name, long fallback) =>
        node.Attribute(name) is { Kind: AttributeKind.Int } a ? a.Int : fallback;

    public static float Float(this Node node, string name, float fallback) =>
        node.Attribute(name) switch
        {
            { Kind: AttributeKind.Float } a => a.Float,
            { Kind: AttributeKind.Int } a => a.Int,
            _ => fallback,
        };

    public static string Str(this Node node, string name, string fallback) =>
        node.Attribute(name) is { Kind: AttributeKind.String } a ? a.String ?? fallback : fallback;

    public static long[]? Ints(this Node node, string name) =>
        node.Attribute(name) is { Kind: AttributeKind.Ints } a ? a.Ints : null;
}
