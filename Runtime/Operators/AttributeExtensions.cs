using FastInfer.Ir;

namespace FastInfer.Runtime.Operators;

/// <summary>Typed attribute access with ONNX defaults and errors that name the node.</summary>
internal static class AttributeExtensions
{
    public static long GetInt(this Node node, string name, long fallback) =>
        node.Attribute(name) is { } a ? a.Kind == AttributeKind.Int ? a.Int : throw Wrong(node, a, "an int") : fallback;

    public static float GetFloat(this Node node, string name, float fallback) =>
        node.Attribute(name) is { } a ? a.Kind switch
        {
            AttributeKind.Float => a.Float,
            AttributeKind.Int => a.Int,
            _ => throw Wrong(node, a, "a float"),
        } : fallback;

    public static string GetString(this Node node, string name, string fallback) =>
        node.Attribute(name) is { } a ? a.Kind == AttributeKind.String ? a.String ?? "" : throw Wrong(node, a, "a string") : fallback;

    public static long[]? GetInts(this Node node, string name) =>
        node.Attribute(name) is { } a ? a.Kind == AttributeKind.Ints ? a.Ints : throw Wrong(node, a, "a list of ints") : null;

    public static float[]? GetFloats(this Node node, string name) =>
        node.Attribute(name) is { } a ? a.Kind == AttributeKind.Floats ? a.Floats : throw Wrong(node, a, "a list of floats") : null;

    public static bool HasInput(this Node node, int i) => i < node.Inputs.Count && node.Inputs[i].Length > 0;

    private static InvalidModelException Wrong(Node node, NodeAttribute a, string expected) =>
        new($"Node '{node.DisplayName}' ({node.OpType}): attribute '{a.Name}' should be {expected} but is {a.Kind}.");
}
