using FastInfer.Ir;

namespace FastInfer.Formats.Npy;

/// <summary>
/// A dense array read from or written to a NumPy <c>.npy</c> file: element type, shape, and the elements as
/// little-endian bytes in C (row-major) order. Arrays are held in a managed byte array, so one is under 2 GiB.
/// </summary>
public sealed class NpyArray
{
    public DataType ElementType { get; }
    public long[] Shape { get; }
    /// <summary>Little-endian, row-major element bytes; exactly <see cref="ElementCount"/> × element size.</summary>
    public byte[] Data { get; }

    public NpyArray(DataType elementType, long[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        int size = elementType.SizeInBytes();
        if (size == 0 || NpyDescr.From(elementType) is null)
            throw new ArgumentException($"Element type {elementType.ToName()} cannot be stored in a .npy file by FastInfer.", nameof(elementType));
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape [{string.Join(",", shape)}].", nameof(shape));
            count = checked(count * d);
        }
        if (checked(count * size) != data.LongLength)
            throw new ArgumentException($"Shape [{string.Join(",", shape)}] of {elementType.ToName()} needs {count * size} bytes but {data.LongLength} were given.", nameof(data));
        ElementType = elementType;
        Shape = shape;
        Data = data;
    }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Builds an array from typed values (copied).</summary>
    public static NpyArray Create<T>(ReadOnlySpan<T> values, params long[] shape) where T : unmanaged =>
        new(NpyDescr.TypeOf<T>(), shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>The elements viewed as <typeparamref name="T"/>; the type must match <see cref="ElementType"/>.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        if (NpyDescr.TypeOf<T>() != ElementType && !(ElementType == DataType.Bool && typeof(T) == typeof(byte)))
            throw new InvalidOperationException($"The array holds {ElementType.ToName()}, not {typeof(T).Name}.");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(Data);
    }

    public override string ToString() => $"{ElementType.ToName()}[{string.Join(",", Shape)}]";
}
