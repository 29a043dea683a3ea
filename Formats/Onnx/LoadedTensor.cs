using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>A tensor read on its own (a <c>.pb</c> TensorProto file) together with the memory that holds it.</summary>
public sealed class LoadedTensor : IDisposable
{
    private readonly ModelGraph _owner;

    public TensorData Tensor { get; }

    internal LoadedTensor(ModelGraph owner, TensorData tensor)
    {
        _owner = owner;
        Tensor = tensor;
    }

    public void Dispose() => _owner.Dispose();
}
