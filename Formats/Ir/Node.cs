namespace FastInfer.Ir;

/// <summary>
/// One operator application. Op types and attribute names are ONNX's, whatever format the model came
/// from. An omitted optional input is the empty string, as in ONNX.
/// </summary>
public sealed class Node
{
    public string Name { get; set; } = "";
    public required string OpType { get; set; }
    /// <summary>"" for the default ONNX domain; "com.microsoft", "fastinfer", ... otherwise.</summary>
    public string Domain { get; set; } = "";
    public List<string> Inputs { get; init; } = new();
    public List<string> Outputs { get; init; } = new();
    public Dictionary<string, NodeAttribute> Attributes { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The node's name, or a description built from its op type and first output when it has none.</summary>
    public string DisplayName => Name.Length > 0 ? Name : $"{OpType}({(Outputs.Count > 0 ? Outputs[0] : "?")})";

    public NodeAttribute? Attribute(string name) => Attributes.GetValueOrDefault(name);

    public void SetAttribute(NodeAttribute attribute) => Attributes[attribute.Name] = attribute;

    public override string ToString() => $"{DisplayName}: {OpType}({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}
