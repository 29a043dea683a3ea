using System.Globalization;
using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>
/// Parses a TensorProto in two steps: first its structure (dims, type, where the values are: raw_data, a typed field,
/// or an external file) without touching the values; then, once the sizes are validated against the bytes actually
/// present and the limits, one aligned graph-owned block is allocated and filled.
/// </summary>
internal static unsafe class OnnxTensorParser
{
    private readonly record struct Segment(int Field, long Offset, long Length);

    /// <param name="message">A reader over the TensorProto's bytes.</param>
    /// <param name="baseLocation">Where the tensor sits, e.g. <c>graph.initializer[3]</c>; its name is appended.</param>
    public static TensorData Parse(ProtoReader message, ModelGraph owner, string baseLocation)
    {
        string? peeked = message.PeekString(8);
        var r = message;
        r.Location = string.IsNullOrEmpty(peeked) ? baseLocation : $"{baseLocation} '{peeked}'";
        var ctx = r.Context;
        int maxRank = ctx.Limits.MaxRank;

        string name = "";
        int dataType = 0;
        int dataLocation = 0;
        var dims = new List<long>();
        (long Offset, long Length)? raw = null;
        List<Segment>? typed = null;
        List<(long Offset, long Length)>? strings = null;
        string? extLocation = null, extOffset = null, extLength = null;
        long start = r.Position;

        while (r.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: // dims, packed or not
                    if (wire == WireType.LengthDelimited)
                    {
                        var (off, len) = r.ReadLengthDelimited();
                        if (dims.Count + r.CountPacked(off, len, WireType.Varint) > maxRank)
                            throw r.Error($"tensor rank exceeds {maxRank} (ReaderLimits.MaxRank)", off);
                        var p = r.Slice(off, len, r.Location);
                        while (!p.AtEnd) dims.Add(p.ReadInt64());
                    }
                    else
                    {
                        r.Expect(field, wire, WireType.Varint, "dims");
                        if (dims.Count >= maxRank) throw r.Error($"tensor rank exceeds {maxRank} (ReaderLimits.MaxRank)");
                        dims.Add(r.ReadInt64());
                    }
                    break;
                case 2: r.Expect(field, wire, WireType.Varint, "data_type"); dataType = r.ReadInt32(); break;
                case 3: throw r.Error("segmented tensors (TensorProto.segment) are not supported");
                case TensorLayout.FloatData or TensorLayout.Int32Data or TensorLayout.Int64Data
                    or TensorLayout.DoubleData or TensorLayout.UInt64Data:
                    typed ??= new List<Segment>();
                    if (wire == WireType.LengthDelimited)
                    {
                        var (off, len) = r.ReadLengthDelimited();
                        typed.Add(new Segment(field, off, len));
                    }
                    else
                    {
                        r.Expect(field, wire, ElementWire(field), TensorLayout.FieldName(field));
                        long at = r.Position;
                        r.Skip(wire);
                        typed.Add(new Segment(field, at, r.Position - at));
                    }
                    break;
                case TensorLayout.StringData:
                    r.Expect(field, wire, WireType.LengthDelimited, "string_data");
                    (strings ??= new()).Add(r.ReadLengthDelimited());
                    break;
                case 8: r.Expect(field, wire, WireType.LengthDelimited, "name"); name = r.ReadString(); break;
                case 9: r.Expect(field, wire, WireType.LengthDelimited, "raw_data"); raw = r.ReadLengthDelimited(); break;
                case 13:
                {
                    r.Expect(field, wire, WireType.LengthDelimited, "external_data");
                    var (key, value) = ReadStringPair(r.ReadMessage(r.Location));
                    switch (key)
                    {
                        case "location": extLocation = value; break;
                        case "offset": extOffset = value; break;
                        case "length": extLength = value; break;
                    }
                    break;
                }
                case 14: r.Expect(field, wire, WireType.Varint, "data_location"); dataLocation = r.ReadInt32(); break;
                default: r.Skip(wire); break;
            }
        }

        // Structure read; now validate everything before allocating.
        if (!DataTypeExtensions.IsDefined(dataType)) throw r.Error($"unknown data_type {dataType}", start);
        var type = (DataType)dataType;
        if (type == DataType.Undefined) throw r.Error("tensor has data_type UNDEFINED (0)", start);
        long elements = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw r.Error($"negative dimension {d} in shape [{string.Join(",", dims)}]", start);
            if (d > ctx.Limits.MaxDim) throw r.Error($"dimension {d} exceeds the limit of {ctx.Limits.MaxDim} (ReaderLimits.MaxDim)", start);
            if (d != 0 && elements > long.MaxValue / d)
                throw r.Error($"shape [{string.Join(",", dims)}] has more elements than a 64-bit count can hold", start);
            elements *= d;
        }
        long byteLength = TensorLayout.ByteLength(type, elements);
        if (byteLength < 0) throw r.Error($"shape [{string.Join(",", dims)}] of {type.ToName()} overflows a 64-bit byte count", start);
        ctx.AddWeightBytes(byteLength, r.Location);
        long[] dimArray = dims.ToArray();

        if (dataLocation is not (0 or 1)) throw r.Error($"unknown data_location {dataLocation}", start);
        if (dataLocation == 1)
        {
            if (raw is not null || typed is not null || strings is not null)
                throw r.Error("tensor is marked EXTERNAL but also carries values inline", start);
            if (type == DataType.String) throw r.Error("string tensors cannot be stored as external data", start);
            return ReadExternal(r, owner, name, type, dimArray, byteLength, extLocation, extOffset, extLength);
        }

        if (type == DataType.String)
        {
            if (raw is not null || typed is not null) throw r.Error("string tensor must use string_data only", start);
            long have = strings?.Count ?? 0;
            if (have != elements) throw r.Error($"string_data has {have} values but shape [{string.Join(",", dims)}] needs {elements}", start);
            var values = new string[have];
            for (int i = 0; i < values.Length; i++) values[i] = r.DecodeString(strings![i].Offset, strings[i].Length);
            return new TensorData(name, type, dimArray, 0, 0) { Strings = values };
        }
        if (strings is not null) throw r.Error($"string_data on a {type.ToName()} tensor", start);

        if (raw is { } rd)
        {
            if (typed is not null)
                throw r.Error($"tensor has both raw_data and {TensorLayout.FieldName(typed[0].Field)}", start);
            if (rd.Length != byteLength)
                throw r.Error($"raw_data has {rd.Length} bytes but shape [{string.Join(",", dims)}] of {type.ToName()} needs {byteLength}", rd.Offset);
            var block = owner.Allocate(byteLength, zero: false);
            ctx.Source.CopyTo(rd.Offset, (byte*)block.Pointer, byteLength);
            return new TensorData(name, type, dimArray, block.Pointer, byteLength);
        }

        if (typed is null)
        {
            if (elements != 0) throw r.Error($"tensor of shape [{string.Join(",", dims)}] has no values", start);
            var empty = owner.Allocate(0);
            return new TensorData(name, type, dimArray, empty.Pointer, 0);
        }
        return DecodeTyped(r, owner, name, type, dimArray, elements, byteLength, typed);
    }

    private static WireType ElementWire(int field) => field switch
    {
        TensorLayout.FloatData => WireType.Fixed32,
        TensorLayout.DoubleData => WireType.Fixed64,
        _ => WireType.Varint,
    };

    private static TensorData DecodeTyped(ProtoReader r, ModelGraph owner, string name, DataType type, long[] dims,
        long elements, long byteLength, List<Segment> typed)
    {
        int expectedField = TensorLayout.TypedField(type);
        long count = 0;
        foreach (var s in typed)
        {
            if (s.Field != expectedField)
                throw r.Error($"{TensorLayout.FieldName(s.Field)} cannot hold a {type.ToName()} tensor (expected {TensorLayout.FieldName(expectedField)})", s.Offset);
            count += r.CountPacked(s.Offset, s.Length, ElementWire(s.Field));
        }
        long needed = TensorLayout.TypedCount(type, elements, byteLength);
        if (count != needed)
            throw r.Error($"{TensorLayout.FieldName(expectedField)} has {count} values but shape [{string.Join(",", dims)}] of {type.ToName()} needs {needed}", typed[0].Offset);

        var block = owner.Allocate(byteLength, zero: false);
        byte* dest = (byte*)block.Pointer;
        int size = TensorLayout.TypedValueBytes(type);
        var wire = ElementWire(expectedField);
        foreach (var s in typed)
        {
            var p = r.Slice(s.Offset, s.Length, r.Location);
            while (!p.AtEnd)
            {
                ulong v = wire switch
                {
                    WireType.Fixed32 => p.ReadFixed32(),
                    WireType.Fixed64 => p.ReadFixed64(),
                    _ => p.ReadVarint(),
                };
                if (type == DataType.Bool) v = v != 0 ? 1UL : 0UL;
                for (int k = 0; k < size; k++) dest[k] = (byte)(v >> (8 * k));
                dest += size;
            }
        }
        return new TensorData(name, type, dims, block.Pointer, byteLength);
    }

    private static TensorData ReadExternal(ProtoReader r, ModelGraph owner, string name, DataType type, long[] dims,
        long byteLength, string? location, string? offsetText, string? lengthText)
    {
        if (location is null) throw r.Error("external data has no 'location'");
        long offset = ParseNonNegative(r, offsetText, "offset") ?? 0;
        long length = ParseNonNegative(r, lengthText, "length") ?? byteLength;
        if (length != byteLength)
            throw r.Error($"external data length {length} does not match the {byteLength} bytes of shape [{string.Join(",", dims)}] of {type.ToName()}");
        var (handle, fileLength) = r.Context.ExternalFiles.Open(location, r.Location);
        if (offset > fileLength || length > fileLength - offset)
            throw r.Error($"external data range [{offset}, {offset}+{length}) runs past the end of '{location}' ({fileLength} bytes)");
        // Mapped placement uses aligned external data in place: no copy, pages shared with other processes.
        if (r.Context.Limits.WeightPlacement == WeightPlacement.Mapped && byteLength > 0 && offset % NativeMemoryBlock.Alignment == 0)
        {
            var mapping = r.Context.ExternalFiles.Map(location, owner);
            return new TensorData(name, type, dims, (nint)(mapping.Pointer + offset), byteLength);
        }
        var block = owner.Allocate(byteLength, zero: false);
        ExternalDataFiles.ReadExactly(handle, offset, (byte*)block.Pointer, byteLength, location);
        return new TensorData(name, type, dims, block.Pointer, byteLength);
    }

    private static long? ParseNonNegative(ProtoReader r, string? text, string key)
    {
        if (text is null) return null;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            throw r.Error($"external data '{key}' is not a non-negative integer: '{text}'");
        return v;
    }

    /// <summary>Reads a StringStringEntryProto (key = 1, value = 2).</summary>
    public static (string Key, string Value) ReadStringPair(ProtoReader r)
    {
        string key = "", value = "";
        while (r.TryReadTag(out int field, out var wire))
        {
            if (field == 1) { r.Expect(field, wire, WireType.LengthDelimited, "key"); key = r.ReadString(); }
            else if (field == 2) { r.Expect(field, wire, WireType.LengthDelimited, "value"); value = r.ReadString(); }
            else r.Skip(wire);
        }
        return (key, value);
    }
}
