using FastInfer.Ir;

namespace FastInfer.Formats.Npy;

/// <summary>
/// NumPy's type strings (<c>descr</c>): a byte-order character (<c>&lt;</c> little, <c>&gt;</c> big, <c>|</c> not
/// applicable, <c>=</c> native), a kind letter and an item size, e.g. <c>&lt;f4</c>, <c>|b1</c>.
/// </summary>
internal static class NpyDescr
{
    /// <summary>The little-endian descr FastInfer writes for a type, or null when it has none.</summary>
    public static string? From(DataType type) => type switch
    {
        DataType.Float => "<f4",
        DataType.Double => "<f8",
        DataType.Float16 => "<f2",
        DataType.Int64 => "<i8",
        DataType.Int32 => "<i4",
        DataType.Int16 => "<i2",
        DataType.Int8 => "|i1",
        DataType.UInt64 => "<u8",
        DataType.UInt32 => "<u4",
        DataType.UInt16 => "<u2",
        DataType.UInt8 => "|u1",
        DataType.Bool => "|b1",
        _ => null,
    };

    /// <summary>Parses a descr; <paramref name="bigEndian"/> tells whether elements must be byte-swapped.</summary>
    public static DataType? Parse(string descr, out bool bigEndian)
    {
        bigEndian = false;
        if (descr.Length < 3) return null;
        char order = descr[0];
        if (order is not ('<' or '>' or '|' or '=')) return null;
        bigEndian = order == '>' && BitConverter.IsLittleEndian || order == '<' && !BitConverter.IsLittleEndian;
        DataType? type = descr[1..] switch
        {
            "f4" => DataType.Float,
            "f8" => DataType.Double,
            "f2" => DataType.Float16,
            "i8" => DataType.Int64,
            "i4" => DataType.Int32,
            "i2" => DataType.Int16,
            "i1" => DataType.Int8,
            "u8" => DataType.UInt64,
            "u4" => DataType.UInt32,
            "u2" => DataType.UInt16,
            "u1" => DataType.UInt8,
            "b1" => DataType.Bool,
            _ => null,
        };
        // A one-byte type has no byte order to honour.
        if (type is { } t && t.SizeInBytes() == 1) bigEndian = false;
        return type;
    }

    public static DataType TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DataType.Float
        : typeof(T) == typeof(double) ? DataType.Double
        : typeof(T) == typeof(long) ? DataType.Int64
        : typeof(T) == typeof(int) ? DataType.Int32
        : typeof(T) == typeof(short) ? DataType.Int16
        : typeof(T) == typeof(sbyte) ? DataType.Int8
        : typeof(T) == typeof(ulong) ? DataType.UInt64
        : typeof(T) == typeof(uint) ? DataType.UInt32
        : typeof(T) == typeof(ushort) ? DataType.UInt16
        : typeof(T) == typeof(byte) ? DataType.UInt8
        : typeof(T) == typeof(bool) ? DataType.Bool
        : typeof(T) == typeof(Half) ? DataType.Float16
        : throw new NotSupportedException($"No .npy element type for {typeof(T).Name}.");
}
