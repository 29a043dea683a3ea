namespace FastInfer.Formats.Onnx;

/// <summary>Protobuf wire types (the low three bits of a field tag).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    /// <summary>Deprecated groups; ONNX never uses them, so the reader rejects them rather than track nesting.</summary>
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}
