using System.Runtime.InteropServices;
using FastInfer.Formats.Npy;
using FastInfer.Ir;
using FastInfer.Runtime;

namespace FastInfer.Cli.Inputs;

/// <summary>Copies between runtime tensors and host arrays (<see cref="NpyArray"/>), and widens values for comparison.</summary>
public static unsafe class TensorConvert
{
    public static Tensor ToTensor(NpyArray array)
    {
        var dims = array.Shape.Select(d => d <= int.MaxValue ? (int)d : throw new CliException($"dimension {d} is too large")).ToArray();
        var t = Tensor.Allocate(array.ElementType, dims);
        array.Data.AsSpan().CopyTo(new Span<byte>((void*)t.Pointer, checked((int)t.ByteLength)));
        return t;
    }

    public static NpyArray ToArray(Tensor tensor)
    {
        var bytes = new ReadOnlySpan<byte>((void*)tensor.Pointer, checked((int)tensor.ByteLength)).ToArray();
        return new NpyArray(tensor.ElementType, tensor.Shape.ToLongArray(), bytes);
    }

    public static NpyArray FromData(TensorData data)
    {
        if (data.ElementType.SizeInBytes() == 0 || data.Strings is not null)
            throw new CliException($"tensor '{data.Name}' has element type {data.ElementType.ToName()}, which cannot be used as an input");
        var bytes = new ReadOnlySpan<byte>((void*)data.Pointer, checked((int)data.ByteLength)).ToArray();
        return new NpyArray(data.ElementType, data.Dims, bytes);
    }

    /// <summary>Converts to the element type a model input declares when the conversion is exact in practice (float64→float32, int32↔int64, bool/uint8).</summary>
    public static NpyArray CastTo(NpyArray a, DataType wanted, string inputName)
    {
        if (a.ElementType == wanted || wanted == DataType.Undefined) return a;
        double[] values = ToDoubles(a);
        byte[] bytes = wanted switch
        {
            DataType.Float => MemoryMarshal.AsBytes(values.Select(v => (float)v).ToArray().AsSpan()).ToArray(),
            DataType.Double => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
            DataType.Int64 when IsInteger(a.ElementType) => MemoryMarshal.AsBytes(values.Select(v => (long)v).ToArray().AsSpan()).ToArray(),
            DataType.Int32 when IsInteger(a.ElementType) => MemoryMarshal.AsBytes(values.Select(v => checked((int)v)).ToArray().AsSpan()).ToArray(),
            _ => throw new CliException($"input '{inputName}' must be {wanted.ToName()} but the file holds {a.ElementType.ToName()}"),
        };
        return new NpyArray(wanted, a.Shape, bytes);
    }

    private static bool IsInteger(DataType t) => t is DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64
        or DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.Bool;

    /// <summary>Every element as a double (for differences and summaries).</summary>
    public static double[] ToDoubles(NpyArray a)
    {
        var d = a.Data.AsSpan();
        return a.ElementType switch
        {
            DataType.Float => Array.ConvertAll(MemoryMarshal.Cast<byte, float>(d).ToArray(), v => (double)v),
            DataType.Double => MemoryMarshal.Cast<byte, double>(d).ToArray(),
            DataType.Float16 => Array.ConvertAll(MemoryMarshal.Cast<byte, Half>(d).ToArray(), v => (double)v),
            DataType.Int64 => Array.ConvertAll(MemoryMarshal.Cast<byte, long>(d).ToArray(), v => (double)v),
            DataType.Int32 => Array.ConvertAll(MemoryMarshal.Cast<byte, int>(d).ToArray(), v => (double)v),
            DataType.Int16 => Array.ConvertAll(MemoryMarshal.Cast<byte, short>(d).ToArray(), v => (double)v),
            DataType.Int8 => Array.ConvertAll(MemoryMarshal.Cast<byte, sbyte>(d).ToArray(), v => (double)v),
            DataType.UInt64 => Array.ConvertAll(MemoryMarshal.Cast<byte, ulong>(d).ToArray(), v => (double)v),
            DataType.UInt32 => Array.ConvertAll(MemoryMarshal.Cast<byte, uint>(d).ToArray(), v => (double)v),
            DataType.UInt16 => Array.ConvertAll(MemoryMarshal.Cast<byte, ushort>(d).ToArray(), v => (double)v),
            DataType.UInt8 or DataType.Bool => Array.ConvertAll(d.ToArray(), v => (double)v),
            _ => throw new CliException($"cannot compare values of type {a.ElementType.ToName()}"),
        };
    }
}
