using FastInfer.Ir;

namespace FastInfer.Runtime.Operators;

/// <summary>What an operator may know when it is created, once per session.</summary>
internal sealed class OperatorContext
{
    public required ModelGraph Graph { get; init; }
    public required SessionOptions Options { get; init; }
    /// <summary>Packed weights from a pre-packed <c>.fim</c> matching this session's kernels, and a recorder of what it packs.</summary>
    public Kernels.Gemm.IPackedOperandStore? PackedOperands { get; init; }

    /// <summary>The default-domain opset the model imports.</summary>
    public long Opset => Graph.Opset;

    /// <summary>An initializer by value name, when the input is a constant.</summary>
    public TensorData? Constant(string name) => name.Length > 0 ? Graph.Initializers.GetValueOrDefault(name) : null;
}
