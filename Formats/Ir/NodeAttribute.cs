namespace FastInfer.Ir;

/// <summary>The kinds of attribute value, numbered as ONNX's <c>AttributeProto.AttributeType</c>.</summary>
public enum AttributeKind
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>A node attribute. Exactly the member matching <see cref="Kind"/> is set.</summary>
public sealed class NodeAttribute
{
    public required string Name { get; init; }
    public required AttributeKind Kind { get; init; }
    public float Float { get; init; }
    public long Int { get; init; }
    /// <summary>String attributes are bytes in ONNX; decoded as UTF-8.</summary>
    public string? String { get; init; }
    public TensorData? Tensor { get; init; }
    public ModelGraph? Graph { get; init; }
    public float[]? Floats { get; init; }
    public long[]? Ints { get; init; }
    public string[]? Strings { get; init; }
    public TensorData[]? Tensors { get; init; }
    public ModelGraph[]? Graphs { get; init; }

    public static NodeAttribute Of(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };
    public static NodeAttribute Of(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };
    public static NodeAttribute Of(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };
    public static NodeAttribute Of(string name, long[] value) => new() { Name = name, Kind = AttributeKind.Ints, Ints = value };
    public static NodeAttribute Of(string name, float[] value) => new() { Name = name, Kind = AttributeKind.Floats, Floats = value };
    public static NodeAttribute Of(string name, string[] value) => new() { Name = name, Kind = AttributeKind.Strings, Strings = value };
    public static NodeAttribute Of(string name, TensorData value) => new() { Name = name, Kind = AttributeKind.Tensor, Tensor = value };

    public override string ToString() => Kind switch
    {
        AttributeKind.Float => $"{Name}={Float}",
        AttributeKind.Int => $"{Name}={Int}",
        AttributeKind.String => $"{Name}=\"{String}\"",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", Ints!)}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", Floats!)}]",
        _ => $"{Name}:{Kind}",
    };
}
