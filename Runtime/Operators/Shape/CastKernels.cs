using FastInfer.Ir;

namespace FastInfer.Runtime.Operators.Shape;

/// <summary>Element type conversions with ONNX's rules (float→int truncates toward zero; bool is 0/1).</summary>
internal static unsafe class CastKernels
{
    public delegate void Convert(nint source, nint destination, long count);

    public static Convert? Find(DataType from, DataType to)
    {
        var read = Reader(from);
        var write = Writer(to);
        if (read is null || write is null) return null;
        return (s, d, n) => { for (long i = 0; i < n; i++) write(d, i, read(s, i)); };
    }

    private static Func<nint, long, double>? Reader(DataType t) => t switch
    {
        DataType.Float => (p, i) => ((float*)p)[i],
        DataType.Double => (p, i) => ((double*)p)[i],
        DataType.Int64 => (p, i) => ((long*)p)[i],
        DataType.Int32 => (p, i) => ((int*)p)[i],
        DataType.Int16 => (p, i) => ((short*)p)[i],
        DataType.Int8 => (p, i) => ((sbyte*)p)[i],
        DataType.UInt8 or DataType.Bool => (p, i) => ((byte*)p)[i],
        DataType.Float16 => (p, i) => (double)((Half*)p)[i],
        _ => null,
    };

    private static Action<nint, long, double>? Writer(DataType t) => t switch
    {
        DataType.Float => (p, i, v) => ((float*)p)[i] = (float)v,
        DataType.Double => (p, i, v) => ((double*)p)[i] = v,
        DataType.Int64 => (p, i, v) => ((long*)p)[i] = double.IsNaN(v) ? long.MinValue : (long)v,
        DataType.Int32 => (p, i, v) => ((int*)p)[i] = double.IsNaN(v) ? int.MinValue : (int)v,
        DataType.Int16 => (p, i, v) => ((short*)p)[i] = (short)v,
        DataType.Int8 => (p, i, v) => ((sbyte*)p)[i] = (sbyte)v,
        DataType.UInt8 => (p, i, v) => ((byte*)p)[i] = (byte)v,
        DataType.Bool => (p, i, v) => ((byte*)p)[i] = v != 0 ? (byte)1 : (byte)0,
        DataType.Float16 => (p, i, v) => ((Half*)p)[i] = (Half)v,
        _ => null,
    };
}
