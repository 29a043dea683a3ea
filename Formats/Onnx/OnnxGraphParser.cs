using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Parses GraphProto and NodeProto into a <see cref="ModelGraph"/> (subgraphs recursively, depth-bounded).</summary>
internal static class OnnxGraphParser
{
    /// <summary>Fills <paramref name="graph"/> from a GraphProto message.</summary>
    public static void ParseInto(ProtoReader r, ModelGraph graph, string location)
    {
        var inputs = new List<ValueInfo>();
        int nodeIndex = 0, initIndex = 0, inputIndex = 0, outputIndex = 0, infoIndex = 0;
        while (r.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    r.Expect(field, wire, WireType.LengthDelimited, "node");
                    graph.Nodes.Add(ParseNode(r.ReadMessage(r.Location), graph, $"{location}.node[{nodeIndex++}]"));
                    break;
                case 2: r.Expect(field, wire, WireType.LengthDelimited, "name"); graph.Name = r.ReadString(); break;
                case 5:
                {
                    r.Expect(field, wire, WireType.LengthDelimited, "initializer");
                    var t = OnnxTensorParser.Parse(r.ReadMessage(r.Location), graph, $"{location}.initializer[{initIndex++}]");
                    if (!graph.Initializers.TryAdd(t.Name, t))
                        throw r.Error($"initializer '{t.Name}' is defined twice");
                    break;
                }
                case 15: throw r.Error("sparse initializers (GraphProto.sparse_initializer) are not supported");
                case 11:
                    r.Expect(field, wire, WireType.LengthDelimited, "input");
                    inputs.Add(OnnxValueInfoParser.Parse(r.ReadMessage(r.Location), $"{location}.input[{inputIndex++}]"));
                    break;
                case 12:
                    r.Expect(field, wire, WireType.LengthDelimited, "output");
                    graph.Outputs.Add(OnnxValueInfoParser.Parse(r.ReadMessage(r.Location), $"{location}.output[{outputIndex++}]"));
                    break;
                case 13:
                    r.Expect(field, wire, WireType.LengthDelimited, "value_info");
                    graph.ValueInfos.Add(OnnxValueInfoParser.Parse(r.ReadMessage(r.Location), $"{location}.value_info[{infoIndex++}]"));
                    break;
                default: r.Skip(wire); break;
            }
        }
        // Before IR 4 every initializer was also listed as a graph input; those are constants, not feeds.
        foreach (var input in inputs)
            if (!graph.Initializers.ContainsKey(input.Name)) graph.Inputs.Add(input);
    }

    private static Node ParseNode(ProtoReader message, ModelGraph graph, string baseLocation)
    {
        string? peekName = message.PeekString(3);
        string location = string.IsNullOrEmpty(peekName)
            ? (message.PeekString(4) is { Length: > 0 } op ? $"{baseLocation} ({op})" : baseLocation)
            : $"{baseLocation} '{peekName}'";
        var r = message;
        r.Location = location;
        r.Context.AddNode(location);

        string name = "", opType = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<NodeAttribute>();
        while (r.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: r.Expect(field, wire, WireType.LengthDelimited, "input"); inputs.Add(r.ReadString()); break;
                case 2: r.Expect(field, wire, WireType.LengthDelimited, "output"); outputs.Add(r.ReadString()); break;
                case 3: r.Expect(field, wire, WireType.LengthDelimited, "name"); name = r.ReadString(); break;
                case 4: r.Expect(field, wire, WireType.LengthDelimited, "op_type"); opType = r.ReadString(); break;
                case 7: r.Expect(field, wire, WireType.LengthDelimited, "domain"); domain = r.ReadString(); break;
                case 5:
                    r.Expect(field, wire, WireType.LengthDelimited, "attribute");
                    attributes.Add(OnnxAttributeParser.Parse(r.ReadMessage(location), graph, location));
                    break;
                default: r.Skip(wire); break;
            }
        }
        if (opType.Length == 0) throw r.Error("node has no op_type", message.Position);
        var node = new Node { Name = name, OpType = opType, Domain = domain, Inputs = inputs, Outputs = outputs };
        foreach (var a in attributes) node.SetAttribute(a);
        return node;
    }

    /// <summary>Parses a GRAPH attribute's GraphProto into a new graph owned by <paramref name="parent"/>.</summary>
    public static ModelGraph ParseSubgraph(ProtoReader r, ModelGraph parent, string location)
    {
        var ctx = r.Context;
        ctx.EnterGraph(location, r.Position);
        var sub = new ModelGraph { SourceFormat = "onnx", SourcePath = ctx.FilePath };
        try
        {
            ParseInto(r, sub, location);
            ctx.Subgraphs.Add(sub);
        }
        catch
        {
            sub.Dispose();
            throw;
        }
        finally
        {
            ctx.ExitGraph();
        }
        parent.Own(sub);
        return sub;
    }
}
