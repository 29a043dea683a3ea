using FastInfer.Ir;

namespace FastInfer.Runtime.Planning;

/// <summary>Where a value's memory comes from during Run.</summary>
internal enum ValueKind
{
    /// <summary>A graph input: the caller's tensor, bound per Run.</summary>
    Input,
    /// <summary>A graph output produced by a step: written straight into the caller's tensor.</summary>
    Output,
    /// <summary>Known when planning: an initializer or a folded result, at a fixed address.</summary>
    Constant,
    /// <summary>An intermediate: a slice of the run's arena at a planned offset.</summary>
    Intermediate,
    /// <summary>A view of another value's memory (Reshape, Squeeze, ...): same bytes, new shape.</summary>
    Alias,
}

/// <summary>One value of a plan: its type, concrete shape and where it lives.</summary>
internal sealed class PlanValue
{
    public required int Id { get; init; }
    public required string Name { get; init; }
    public DataType Type { get; set; }
    public TensorShape Shape { get; set; } = TensorShape.Scalar;
    public ValueKind Kind { get; set; } = ValueKind.Intermediate;
    /// <summary>For constants: the address of the data.</summary>
    public nint ConstantPointer { get; set; }
    /// <summary>For aliases: the value whose memory this one views.</summary>
    public int AliasOf { get; set; } = -1;
    /// <summary>For intermediates: the planned offset in the arena.</summary>
    public long ArenaOffset { get; set; } = -1;
    /// <summary>Index of the producing step (-1 for inputs and constants) and of the last reader.</summary>
    public int FirstUse { get; set; } = -1;
    public int LastUse { get; set; } = -1;
    /// <summary>Whether a value has been given a type and shape yet.</summary>
    public bool IsKnown { get; set; }

    public long ByteLength => Shape.ElementCount * Math.Max(1, Type.SizeInBytes());

    public override string ToString() => $"{Name}: {Type.ToName()}{Shape} ({Kind})";
}
