using System.Runtime.InteropServices;

namespace FastInfer.Ir;

/// <summary>
/// A constant tensor (an initializer or an attribute value). Its bytes live at <see cref="Pointer"/>, in a
/// <see cref="MemoryBlock"/> owned by the graph, little-endian and densely packed in row-major order.
/// </summary>
public sealed unsafe class TensorData
{
    public string Name { get; }
    public DataType ElementType { get; }
    public long[] Dims { get; }
    public nint Pointer { get; }
    public long ByteLength { get; }
    /// <summary>String tensors keep their values here instead of at <see cref="Pointer"/>.</summary>
    public string[]? Strings { get; init; }

    public TensorData(string name, DataType elementType, long[] dims, nint pointer, long byteLength)
    {
        Name = name; ElementType = elementType; Dims = dims; Pointer = pointer; ByteLength = byteLength;
    }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dims) n *= d;
            return n;
        }
    }

    /// <summary>The elements as a span; for tensors under 2 GiB.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        long count = ByteLength / sizeof(T);
        if (count > int.MaxValue) throw new InvalidOperationException($"Tensor '{Name}' is too large for a span.");
        return new ReadOnlySpan<T>((void*)Pointer, (int)count);
    }

    /// <summary>Copies <paramref name="values"/> into a new native block registered with <paramref name="owner"/>.</summary>
    public static TensorData Create<T>(ModelGraph owner, string name, DataType type, long[] dims, ReadOnlySpan<T> values) where T : unmanaged
    {
        var block = owner.Allocate((long)values.Length * sizeof(T));
        MemoryMarshal.AsBytes(values).CopyTo(block.Bytes);
        return new TensorData(name, type, dims, block.Pointer, block.ByteLength);
    }

    public override string ToString() => $"{Name}: {ElementType.ToName()}[{string.Join(",", Dims)}]";
}
