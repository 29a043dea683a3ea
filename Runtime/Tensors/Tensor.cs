using System.Runtime.InteropServices;
using FastInfer.Ir;
using FastInfer.Kernels.Memory;

namespace FastInfer.Runtime;

/// <summary>
/// A dense, row-major tensor at a stable address: either native 64-byte aligned memory owned by the tensor,
/// or a caller's managed array pinned for the tensor's lifetime. Create tensors once and reuse them across
/// <see cref="InferenceSession.Run(ReadOnlySpan{NamedTensor}, ReadOnlySpan{NamedTensor})"/> calls: Run
/// itself allocates nothing.
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    private AlignedBuffer? _owned;
    private GCHandle _pin;
    private nint _pointer;

    private Tensor(DataType type, TensorShape shape, nint pointer, AlignedBuffer? owned, GCHandle pin)
    {
        ElementType = type; Shape = shape; _pointer = pointer; _owned = owned; _pin = pin;
    }

    public DataType ElementType { get; }
    public TensorShape Shape { get; }
    public long ElementCount => Shape.ElementCount;
    public long ByteLength => Shape.ElementCount * ElementType.SizeInBytes();
    public nint Pointer => _pointer != 0 || ByteLength == 0 ? _pointer : throw new ObjectDisposedException(nameof(Tensor));

    /// <summary>A zero-filled tensor in native aligned memory.</summary>
    public static Tensor Allocate(DataType type, params int[] dims)
    {
        var shape = new TensorShape(dims);
        int size = type.SizeInBytes();
        if (size == 0) throw new ArgumentException($"Element type {type.ToName()} cannot be stored in a dense tensor.", nameof(type));
        var buffer = new AlignedBuffer(shape.ElementCount * size);
        return new Tensor(type, shape, (nint)buffer.Pointer, buffer, default);
    }

    /// <summary>Wraps (and pins) a caller's array without copying; the array must hold exactly the shape's elements.</summary>
    public static Tensor FromArray<T>(T[] data, params int[] dims) where T : unmanaged
    {
        var shape = new TensorShape(dims);
        if (data.LongLength != shape.ElementCount)
            throw new ArgumentException($"The array has {data.LongLength} elements but shape {shape} needs {shape.ElementCount}.", nameof(data));
        var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        return new Tensor(ElementTypeOf<T>(), shape, pin.AddrOfPinnedObject(), null, pin);
    }

    /// <summary>Copies values into a new native tensor.</summary>
    public static Tensor Create<T>(ReadOnlySpan<T> data, params int[] dims) where T : unmanaged
    {
        var t = Allocate(ElementTypeOf<T>(), dims);
        if (data.Length != t.ElementCount)
            throw new ArgumentException($"{data.Length} values given for shape {t.Shape} ({t.ElementCount} elements).", nameof(data));
        data.CopyTo(t.AsSpan<T>());
        return t;
    }

    /// <summary>Wraps memory the caller owns and keeps alive and fixed; nothing is freed on Dispose.</summary>
    public static Tensor FromPointer(DataType type, nint pointer, params int[] dims) =>
        new(type, new TensorShape(dims), pointer, null, default);

    public Span<T> AsSpan<T>() where T : unmanaged
    {
        CheckType<T>();
        if (ElementCount > int.MaxValue) throw new InvalidOperationException($"Tensor {Shape} is too large for a span; use Pointer.");
        return new Span<T>((void*)Pointer, (int)ElementCount);
    }

    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    private void CheckType<T>() where T : unmanaged
    {
        if (ElementTypeOf<T>() != ElementType && !(ElementType == DataType.Bool && typeof(T) == typeof(byte)))
            throw new InvalidOperationException($"Tensor holds {ElementType.ToName()}, not {typeof(T).Name}.");
    }

    /// <summary>The element type that a .NET type stores.</summary>
    public static DataType ElementTypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DataType.Float
        : typeof(T) == typeof(long) ? DataType.Int64
        : typeof(T) == typeof(int) ? DataType.Int32
        : typeof(T) == typeof(bool) ? DataType.Bool
        : typeof(T) == typeof(double) ? DataType.Double
        : typeof(T) == typeof(byte) ? DataType.UInt8
        : typeof(T) == typeof(sbyte) ? DataType.Int8
        : typeof(T) == typeof(short) ? DataType.Int16
        : typeof(T) == typeof(ushort) ? DataType.UInt16
        : typeof(T) == typeof(uint) ? DataType.UInt32
        : typeof(T) == typeof(ulong) ? DataType.UInt64
        : typeof(T) == typeof(Half) ? DataType.Float16
        : throw new NotSupportedException($"No tensor element type for {typeof(T).Name}.");

    public override string ToString() => $"{ElementType.ToName()}{Shape}";

    public void Dispose()
    {
        _owned?.Dispose();
        _owned = null;
        if (_pin.IsAllocated) _pin.Free();
        _pointer = 0;
    }
}

/// <summary>A tensor bound to a model input or output by name.</summary>
public readonly record struct NamedTensor(string Name, Tensor Tensor);
