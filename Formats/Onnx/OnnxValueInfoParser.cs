using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Parses ValueInfoProto → <see cref="ValueInfo"/>. Only tensor types are represented; sequence, map,
/// optional and sparse types become <see cref="DataType.Undefined"/> with an unknown shape, so such models still load.</summary>
internal static class OnnxValueInfoParser
{
    public static ValueInfo Parse(ProtoReader message, string baseLocation)
    {
        string? peeked = message.PeekString(1);
        var r = message;
        r.Location = string.IsNullOrEmpty(peeked) ? baseLocation : $"{baseLocation} '{peeked}'";
        string name = "";
        var type = DataType.Undefined;
        IReadOnlyList<Dimension>? shape = null;
        while (r.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.Expect(field, wire, WireType.LengthDelimited, "name"); name = r.ReadString(); break;
                case 2: r.Expect(field, wire, WireType.LengthDelimited, "type"); (type, shape) = ParseType(r.ReadMessage(r.Location)); break;
                default: r.Skip(wire); break;
            }
        }
        return new ValueInfo(name, type, shape);
    }

    /// <summary>TypeProto: only tensor_type (1) is read; other kinds are skipped without recursion.</summary>
    private static (DataType, IReadOnlyList<Dimension>?) ParseType(ProtoReader r)
    {
        var result = (DataType.Undefined, (IReadOnlyList<Dimension>?)null);
        while (r.TryReadTag(out int field, out var wire))
        {
            if (field == 1)
            {
                r.Expect(field, wire, WireType.LengthDelimited, "tensor_type");
                result = ParseTensorType(r.ReadMessage(r.Location));
            }
            else r.Skip(wire);
        }
        return result;
    }

    private static (DataType, IReadOnlyList<Dimension>?) ParseTensorType(ProtoReader r)
    {
        var type = DataType.Undefined;
        List<Dimension>? shape = null;
        while (r.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                {
                    r.Expect(field, wire, WireType.Varint, "elem_type");
                    long at = r.Position;
                    int code = r.ReadInt32();
                    if (!DataTypeExtensions.IsDefined(code)) throw r.Error($"unknown elem_type {code}", at);
                    type = (DataType)code;
                    break;
                }
                case 2:
                    r.Expect(field, wire, WireType.LengthDelimited, "shape");
                    shape = ParseShape(r.ReadMessage(r.Location));
                    break;
                default: r.Skip(wire); break;
            }
        }
        return (type, shape);
    }

    private static List<Dimension> ParseShape(ProtoReader r)
    {
        var dims = new List<Dimension>();
        int maxRank = r.Context.Limits.MaxRank;
        while (r.TryReadTag(out int field, out var wire))
        {
            if (field != 1) { r.Skip(wire); continue; }
            r.Expect(field, wire, WireType.LengthDelimited, "dim");
            if (dims.Count >= maxRank) throw r.Error($"declared rank exceeds {maxRank} (ReaderLimits.MaxRank)");
            dims.Add(ParseDimension(r.ReadMessage(r.Location)));
        }
        return dims;
    }

    private static Dimension ParseDimension(ProtoReader r)
    {
        var dim = Dimension.Symbolic(null);
        while (r.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                {
                    r.Expect(field, wire, WireType.Varint, "dim_value");
                    long v = r.ReadInt64();
                    // Some exporters write -1 for "unknown"; a declaration is only a hint, so treat it as such.
                    dim = v >= 0 ? Dimension.Fixed(v) : Dimension.Symbolic(null);
                    break;
                }
                case 2: r.Expect(field, wire, WireType.LengthDelimited, "dim_param"); dim = Dimension.Symbolic(r.ReadString()); break;
                default: r.Skip(wire); break;
            }
        }
        return dim;
    }
}
