using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Parses a ModelProto: header fields, opset imports, metadata and the main graph.</summary>
internal static class OnnxModelParser
{
    public static unsafe ModelGraph Parse(OnnxParseContext ctx)
    {
        var r = new ProtoReader(ctx.Source.Pointer, 0, ctx.Source.Length, ctx, "model");
        var graph = new ModelGraph { SourcePath = ctx.FilePath, SourceFormat = "onnx" };
        try
        {
            bool sawGraph = false;
            while (r.TryReadTag(out int field, out var wire))
            {
                switch (field)
                {
                    case 1:
                    {
                        r.Expect(field, wire, WireType.Varint, "ir_version");
                        long at = r.Position;
                        graph.IrVersion = r.ReadInt64();
                        if (graph.IrVersion > OnnxReader.MaxIrVersion || graph.IrVersion < 0)
                            throw r.Error($"IR version {graph.IrVersion} is not supported (FastInfer reads IR versions up to {OnnxReader.MaxIrVersion})", at);
                        break;
                    }
                    case 2: r.Expect(field, wire, WireType.LengthDelimited, "producer_name"); graph.ProducerName = r.ReadString(); break;
                    case 3: r.Expect(field, wire, WireType.LengthDelimited, "producer_version"); graph.ProducerVersion = r.ReadString(); break;
                    case 7:
                        r.Expect(field, wire, WireType.LengthDelimited, "graph");
                        if (sawGraph) throw r.Error("the model has more than one graph field");
                        sawGraph = true;
                        OnnxGraphParser.ParseInto(r.ReadMessage("graph"), graph, "graph");
                        break;
                    case 8:
                    {
                        r.Expect(field, wire, WireType.LengthDelimited, "opset_import");
                        var (domain, version) = ParseOpset(r.ReadMessage("model.opset_import"));
                        graph.OpsetImports[domain] = version;
                        break;
                    }
                    case 14:
                    {
                        r.Expect(field, wire, WireType.LengthDelimited, "metadata_props");
                        var (key, value) = OnnxTensorParser.ReadStringPair(r.ReadMessage("model.metadata_props"));
                        graph.Metadata[key] = value;
                        break;
                    }
                    // Model-local functions (25) and training info (20) are not executed by FastInfer; they are skipped.
                    default: r.Skip(wire); break;
                }
            }
            if (!sawGraph) throw ctx.Error("the model has no graph (is this an ONNX file?)", "model", 0);
            foreach (var (domain, version) in graph.OpsetImports)
            {
                if (domain is "" or "ai.onnx" && (version < 1 || version > OnnxReader.MaxOpset))
                    throw ctx.Error($"default-domain opset {version} is not supported (FastInfer supports opsets 1..{OnnxReader.MaxOpset})", "model.opset_import");
            }
            foreach (var sub in ctx.Subgraphs)
            {
                sub.IrVersion = graph.IrVersion;
                foreach (var (domain, version) in graph.OpsetImports) sub.OpsetImports[domain] = version;
            }
            return graph;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    private static (string Domain, long Version) ParseOpset(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (r.TryReadTag(out int field, out var wire))
        {
            if (field == 1) { r.Expect(field, wire, WireType.LengthDelimited, "domain"); domain = r.ReadString(); }
            else if (field == 2) { r.Expect(field, wire, WireType.Varint, "version"); version = r.ReadInt64(); }
            else r.Skip(wire);
        }
        return (domain, version);
    }
}
