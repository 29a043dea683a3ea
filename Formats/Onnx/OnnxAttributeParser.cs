using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Parses AttributeProto of every kind into a <see cref="NodeAttribute"/>.</summary>
internal static class OnnxAttributeParser
{
    public static NodeAttribute Parse(ProtoReader message, ModelGraph graph, string nodeLocation)
    {
        string? peeked = message.PeekString(1);
        var r = message;
        string location = $"{nodeLocation} attribute '{peeked ?? ""}'";
        r.Location = location;
        long maxList = r.Context.Limits.MaxListLength;

        string name = "";
        int declared = 0;
        bool hasF = false, hasI = false, hasS = false, hasSparse = false, hasTp = false, hasSparses = false, hasTps = false;
        float f = 0;
        long i = 0;
        string? s = null;
        TensorData? t = null;
        ModelGraph? g = null;
        List<float>? floats = null;
        List<long>? ints = null;
        List<string>? strings = null;
        List<TensorData>? tensors = null;
        List<ModelGraph>? graphs = null;

        while (r.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.Expect(field, wire, WireType.LengthDelimited, "name"); name = r.ReadString(); break;
                case 20: r.Expect(field, wire, WireType.Varint, "type"); declared = r.ReadInt32(); break;
                case 2: r.Expect(field, wire, WireType.Fixed32, "f"); f = r.ReadFloat(); hasF = true; break;
                case 3: r.Expect(field, wire, WireType.Varint, "i"); i = r.ReadInt64(); hasI = true; break;
                case 4: r.Expect(field, wire, WireType.LengthDelimited, "s"); s = r.ReadString(); hasS = true; break;
                case 5:
                    r.Expect(field, wire, WireType.LengthDelimited, "t");
                    t = OnnxTensorParser.Parse(r.ReadMessage(location), graph, $"{location} tensor");
                    break;
                case 6:
                    r.Expect(field, wire, WireType.LengthDelimited, "g");
                    g = OnnxGraphParser.ParseSubgraph(r.ReadMessage(location), graph, $"{location} graph");
                    break;
                case 7:
                    floats ??= new List<float>();
                    if (wire == WireType.LengthDelimited)
                    {
                        var (off, len) = r.ReadLengthDelimited();
                        CheckList(r, floats.Count + r.CountPacked(off, len, WireType.Fixed32), maxList);
                        var p = r.Slice(off, len, location);
                        while (!p.AtEnd) floats.Add(p.ReadFloat());
                    }
                    else
                    {
                        r.Expect(field, wire, WireType.Fixed32, "floats");
                        CheckList(r, floats.Count + 1, maxList);
                        floats.Add(r.ReadFloat());
                    }
                    break;
                case 8:
                    ints ??= new List<long>();
                    if (wire == WireType.LengthDelimited)
                    {
                        var (off, len) = r.ReadLengthDelimited();
                        CheckList(r, ints.Count + r.CountPacked(off, len, WireType.Varint), maxList);
                        var p = r.Slice(off, len, location);
                        while (!p.AtEnd) ints.Add(p.ReadInt64());
                    }
                    else
                    {
                        r.Expect(field, wire, WireType.Varint, "ints");
                        CheckList(r, ints.Count + 1, maxList);
                        ints.Add(r.ReadInt64());
                    }
                    break;
                case 9:
                    r.Expect(field, wire, WireType.LengthDelimited, "strings");
                    strings ??= new List<string>();
                    CheckList(r, strings.Count + 1, maxList);
                    strings.Add(r.ReadString());
                    break;
                case 10:
                    r.Expect(field, wire, WireType.LengthDelimited, "tensors");
                    tensors ??= new List<TensorData>();
                    CheckList(r, tensors.Count + 1, maxList);
                    tensors.Add(OnnxTensorParser.Parse(r.ReadMessage(location), graph, $"{location} tensors[{tensors.Count}]"));
                    break;
                case 11:
                    r.Expect(field, wire, WireType.LengthDelimited, "graphs");
                    graphs ??= new List<ModelGraph>();
                    CheckList(r, graphs.Count + 1, maxList);
                    graphs.Add(OnnxGraphParser.ParseSubgraph(r.ReadMessage(location), graph, $"{location} graphs[{graphs.Count}]"));
                    break;
                case 22: r.Skip(wire); hasSparse = true; break;
                case 23: r.Skip(wire); hasSparses = true; break;
                case 14: r.Skip(wire); hasTp = true; break;
                case 15: r.Skip(wire); hasTps = true; break;
                default: r.Skip(wire); break;
            }
        }

        if (name.Length == 0) throw r.Error("attribute has no name", message.Position);
        if (declared < 0 || declared > (int)AttributeKind.TypeProtos) throw r.Error($"unknown attribute type {declared}", message.Position);
        // Old exporters leave `type` unset (0); the populated field says what the attribute is.
        var kind = declared != 0 ? (AttributeKind)declared
            : hasF ? AttributeKind.Float : hasI ? AttributeKind.Int : hasS ? AttributeKind.String
            : t is not null ? AttributeKind.Tensor : g is not null ? AttributeKind.Graph
            : floats is not null ? AttributeKind.Floats : ints is not null ? AttributeKind.Ints
            : strings is not null ? AttributeKind.Strings : tensors is not null ? AttributeKind.Tensors
            : graphs is not null ? AttributeKind.Graphs : hasSparse ? AttributeKind.SparseTensor
            : hasSparses ? AttributeKind.SparseTensors : hasTp ? AttributeKind.TypeProto
            : hasTps ? AttributeKind.TypeProtos : AttributeKind.Undefined;

        switch (kind)
        {
            case AttributeKind.Tensor when t is null: throw r.Error("attribute of type TENSOR has no tensor (field t)", message.Position);
            case AttributeKind.Graph when g is null: throw r.Error("attribute of type GRAPH has no graph (field g)", message.Position);
        }
        // Sparse tensors and type protos keep their kind but carry no value: the runtime supports no operator
        // that needs them, and it can reject the node with its own message.
        return new NodeAttribute
        {
            Name = name,
            Kind = kind,
            Float = kind == AttributeKind.Float ? f : 0,
            Int = kind == AttributeKind.Int ? i : 0,
            String = kind == AttributeKind.String ? s ?? "" : null,
            Tensor = kind == AttributeKind.Tensor ? t : null,
            Graph = kind == AttributeKind.Graph ? g : null,
            Floats = kind == AttributeKind.Floats ? (floats ?? new()).ToArray() : null,
            Ints = kind == AttributeKind.Ints ? (ints ?? new()).ToArray() : null,
            Strings = kind == AttributeKind.Strings ? (strings ?? new()).ToArray() : null,
            Tensors = kind == AttributeKind.Tensors ? (tensors ?? new()).ToArray() : null,
            Graphs = kind == AttributeKind.Graphs ? (graphs ?? new()).ToArray() : null,
        };
    }

    private static void CheckList(ProtoReader r, long count, long max)
    {
        if (count > max) throw r.Error($"attribute list has more than {max} values (ReaderLimits.MaxListLength)");
    }
}
