using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>How many bytes a tensor of a given type and element count occupies, and which TensorProto field may carry it.</summary>
internal static class TensorLayout
{
    // TensorProto's typed value fields.
    public const int FloatData = 4, Int32Data = 5, StringData = 6, Int64Data = 7, DoubleData = 10, UInt64Data = 11;

    /// <summary>Densely packed byte length (sub-byte types packed as ONNX specifies), or -1 on overflow.</summary>
    public static long ByteLength(DataType type, long elements)
    {
        switch (type)
        {
            case DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1: return elements / 2 + (elements & 1);
            case DataType.Int2 or DataType.UInt2: return elements / 4 + ((elements & 3) != 0 ? 1 : 0);
            case DataType.String: return 0;
        }
        int size = type.SizeInBytes();
        if (size == 0) return -1;
        return elements > long.MaxValue / size ? -1 : elements * size;
    }

    /// <summary>The typed field that carries values of <paramref name="type"/>, when raw_data is not used.</summary>
    public static int TypedField(DataType type) => type switch
    {
        DataType.Float or DataType.Complex64 => FloatData,
        DataType.Double or DataType.Complex128 => DoubleData,
        DataType.Int64 => Int64Data,
        DataType.UInt32 or DataType.UInt64 => UInt64Data,
        DataType.String => StringData,
        _ => Int32Data,
    };

    /// <summary>How many values the typed field holds for a tensor of <paramref name="elements"/> elements.</summary>
    public static long TypedCount(DataType type, long elements, long byteLength) => type switch
    {
        DataType.Complex64 or DataType.Complex128 => elements * 2,
        // Sub-byte types: each int32_data value holds one packed byte.
        DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1 or DataType.Int2 or DataType.UInt2 => byteLength,
        _ => elements,
    };

    /// <summary>Bytes each typed value becomes in the dense layout.</summary>
    public static int TypedValueBytes(DataType type) => type switch
    {
        DataType.Complex64 => 4,
        DataType.Complex128 => 8,
        DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1 or DataType.Int2 or DataType.UInt2 => 1,
        _ => type.SizeInBytes(),
    };

    public static string FieldName(int field) => field switch
    {
        FloatData => "float_data",
        Int32Data => "int32_data",
        StringData => "string_data",
        Int64Data => "int64_data",
        DoubleData => "double_data",
        UInt64Data => "uint64_data",
        9 => "raw_data",
        _ => $"field {field}",
    };
}
