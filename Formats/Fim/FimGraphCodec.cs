using FastInfer.Formats.Onnx;
using FastInfer.Ir;

namespace FastInfer.Formats.Fim;

/// <summary>
/// Encodes and decodes the graph section: the tensor directory, then the model (IR version, producer, opsets,
/// metadata) and its graph, with subgraphs nested in place. Tensors are referred to by directory index.
/// </summary>
internal static class FimGraphCodec
{
    private const byte TensorBytes = 0, TensorStrings = 1;
    private const byte DimFixed = 0, DimSymbolic = 1;

    // ---------------------------------------------------------------- writing

    public static void WriteDirectory(FimSectionWriter w, IReadOnlyList<FimTensorEntry> entries)
    {
        w.Count(entries.Count);
        foreach (var e in entries)
        {
            w.Str(e.Name);
            w.I32((int)e.Type);
            w.Count(e.Dims.Length);
            foreach (long d in e.Dims) w.I64(d);
            if (e.Strings is not null)
            {
                w.U8(TensorStrings);
                w.Count(e.Strings.Length);
                foreach (var s in e.Strings) w.Str(s);
            }
            else
            {
                w.U8(TensorBytes);
                w.I64(e.Offset);
                w.I64(e.Length);
                w.U64(e.Hash);
            }
        }
    }

    public static void WriteModel(FimSectionWriter w, ModelGraph g, IReadOnlyDictionary<TensorData, int> index)
    {
        w.I64(g.IrVersion);
        w.Str(g.ProducerName);
        w.Str(g.ProducerVersion);
        w.Count(g.OpsetImports.Count);
        foreach (var (domain, version) in g.OpsetImports) { w.Str(domain); w.I64(version); }
        w.Count(g.Metadata.Count);
        foreach (var (k, v) in g.Metadata) { w.Str(k); w.Str(v); }
        WriteGraph(w, g, index);
        // Since 1.1: the pre-packed operands (fingerprint, then key and directory index per blob); "" and 0 when none.
        w.Str(g.Prepacked?.Fingerprint ?? "");
        w.Count(g.Prepacked?.Blobs.Count ?? 0);
        if (g.Prepacked is { } prepacked) foreach (var (key, t) in prepacked.Blobs) { w.Str(key); w.I32(index[t]); }
    }

    private static void WriteGraph(FimSectionWriter w, ModelGraph g, IReadOnlyDictionary<TensorData, int> index)
    {
        w.Str(g.Name);
        w.Count(g.Initializers.Count);
        foreach (var (name, t) in g.Initializers) { w.Str(name); w.I32(index[t]); }
        WriteValueInfos(w, g.Inputs);
        WriteValueInfos(w, g.Outputs);
        WriteValueInfos(w, g.ValueInfos);
        w.Count(g.Nodes.Count);
        foreach (var n in g.Nodes)
        {
            w.Str(n.Name);
            w.Str(n.OpType);
            w.Str(n.Domain);
            w.Count(n.Inputs.Count);
            foreach (var s in n.Inputs) w.Str(s);
            w.Count(n.Outputs.Count);
            foreach (var s in n.Outputs) w.Str(s);
            w.Count(n.Attributes.Count);
            foreach (var a in n.Attributes.Values) WriteAttribute(w, a, index);
        }
    }

    private static void WriteValueInfos(FimSectionWriter w, List<ValueInfo> list)
    {
        w.Count(list.Count);
        foreach (var v in list)
        {
            w.Str(v.Name);
            w.I32((int)v.ElementType);
            w.Bool(v.Shape is not null);
            if (v.Shape is null) continue;
            w.Count(v.Shape.Count);
            foreach (var d in v.Shape)
            {
                if (d.IsFixed) { w.U8(DimFixed); w.I64(d.Value); }
                else { w.U8(DimSymbolic); w.Str(d.Symbol ?? ""); }
            }
        }
    }

    private static void WriteAttribute(FimSectionWriter w, NodeAttribute a, IReadOnlyDictionary<TensorData, int> index)
    {
        w.Str(a.Name);
        w.U8((byte)a.Kind);
        switch (a.Kind)
        {
            case AttributeKind.Float: w.F32(a.Float); break;
            case AttributeKind.Int: w.I64(a.Int); break;
            case AttributeKind.String: w.Str(a.String ?? ""); break;
            case AttributeKind.Tensor: w.I32(index[a.Tensor ?? throw Missing(a)]); break;
            case AttributeKind.Graph: WriteSubgraph(w, a.Graph ?? throw Missing(a), index); break;
            case AttributeKind.Floats:
                w.Count(a.Floats?.Length ?? 0);
                foreach (float f in a.Floats ?? []) w.F32(f);
                break;
            case AttributeKind.Ints:
                w.Count(a.Ints?.Length ?? 0);
                foreach (long v in a.Ints ?? []) w.I64(v);
                break;
            case AttributeKind.Strings:
                w.Count(a.Strings?.Length ?? 0);
                foreach (var s in a.Strings ?? []) w.Str(s);
                break;
            case AttributeKind.Tensors:
                w.Count(a.Tensors?.Length ?? 0);
                foreach (var t in a.Tensors ?? []) w.I32(index[t]);
                break;
            case AttributeKind.Graphs:
                w.Count(a.Graphs?.Length ?? 0);
                foreach (var sg in a.Graphs ?? []) WriteSubgraph(w, sg, index);
                break;
            case AttributeKind.Undefined:
                break;
            default:
                throw new NotSupportedException($"attribute '{a.Name}' of kind {a.Kind} cannot be written to .fim (the IR does not carry its value)");
        }
    }

    private static void WriteSubgraph(FimSectionWriter w, ModelGraph g, IReadOnlyDictionary<TensorData, int> index) => WriteGraph(w, g, index);

    private static InvalidOperationException Missing(NodeAttribute a) => new($"attribute '{a.Name}' of kind {a.Kind} has no value");

    // ---------------------------------------------------------------- reading

    /// <summary>Reads and validates the directory: types, shapes, sizes against limits, ranges inside the data area.</summary>
    public static FimTensorEntry[] ReadDirectory(ref FimSectionReader r, long dataEnd)
    {
        var limits = r.Limits;
        int count = r.Count("tensor_directory.count", minItemBytes: 13);
        var entries = new FimTensorEntry[count];
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            string at = $"tensor_directory[{i}]";
            string name = r.Str(at + ".name");
            at = $"tensor_directory[{i}] '{name}'";
            int typeCode = r.I32(at + ".data_type");
            if (!DataTypeExtensions.IsDefined(typeCode) || typeCode == 0) throw r.Error($"unknown data type {typeCode}", at + ".data_type");
            var type = (DataType)typeCode;
            int rank = r.Count(at + ".rank", 8, limits.MaxRank);
            var dims = new long[rank];
            long elements = 1;
            for (int d = 0; d < rank; d++)
            {
                long v = r.I64($"{at}.dims[{d}]");
                if (v < 0 || v > limits.MaxDim) throw r.Error($"dimension {v} is negative or over the limit of {limits.MaxDim} (ReaderLimits.MaxDim)", $"{at}.dims[{d}]");
                if (v != 0 && elements > long.MaxValue / v) throw r.Error("the shape's element count overflows 64 bits", $"{at}.dims");
                dims[d] = v;
                elements *= v;
            }
            byte kind = r.U8(at + ".kind");
            if (kind == TensorStrings)
            {
                if (type != DataType.String) throw r.Error($"a {type.ToName()} tensor stored as strings", at + ".kind");
                int n = r.Count(at + ".strings.count", 4);
                if (n != elements) throw r.Error($"{n} strings for a shape of {elements} elements", at + ".strings.count");
                var strings = new string[n];
                for (int k = 0; k < n; k++) strings[k] = r.Str($"{at}.strings[{k}]");
                entries[i] = new FimTensorEntry(name, type, dims, 0, 0, 0, strings);
                continue;
            }
            if (kind != TensorBytes) throw r.Error($"unknown tensor storage kind {kind}", at + ".kind");
            if (type == DataType.String) throw r.Error("a string tensor stored as bytes", at + ".kind");
            long offset = r.I64(at + ".offset");
            long length = r.I64(at + ".length");
            ulong hash = r.U64(at + ".checksum");
            long expected = TensorLayout.ByteLength(type, elements);
            if (expected < 0) throw r.Error("the shape's byte count overflows 64 bits", at + ".dims");
            if (length != expected) throw r.Error($"length {length} does not match the {expected} bytes of {type.ToName()}[{string.Join(",", dims)}]", at + ".length");
            if (length > limits.MaxTensorBytes) throw r.Error($"tensor of {length} bytes exceeds the limit of {limits.MaxTensorBytes} (ReaderLimits.MaxTensorBytes)", at + ".length");
            if (length > limits.MaxTotalWeightBytes - total) throw r.Error($"tensors total more than {limits.MaxTotalWeightBytes} bytes (ReaderLimits.MaxTotalWeightBytes)", at + ".length");
            total += length;
            if (offset < FimLayout.DataAlignment || offset % FimLayout.DataAlignment != 0)
                throw r.Error($"offset {offset} is not a multiple of {FimLayout.DataAlignment} inside the data area", at + ".offset");
            if (offset > dataEnd || length > dataEnd - offset)
                throw r.Error($"range [{offset}, +{length}) runs past the end of the data area ({dataEnd})", at + ".offset");
            entries[i] = new FimTensorEntry(name, type, dims, offset, length, hash, null);
        }
        return entries;
    }

    /// <summary>Reads the model part of the section into <paramref name="g"/>; tensors come from the materialized directory.</summary>
    public static void ReadModel(ref FimSectionReader r, ModelGraph g, TensorData[] tensors, ushort minor)
    {
        g.IrVersion = r.I64("model.ir_version");
        g.ProducerName = r.Str("model.producer_name");
        g.ProducerVersion = r.Str("model.producer_version");
        int opsets = r.Count("model.opset_import.count", 12);
        for (int i = 0; i < opsets; i++) g.OpsetImports[r.Str($"model.opset_import[{i}].domain")] = r.I64($"model.opset_import[{i}].version");
        int meta = r.Count("model.metadata.count", 8);
        for (int i = 0; i < meta; i++) g.Metadata[r.Str($"model.metadata[{i}].key")] = r.Str($"model.metadata[{i}].value");
        int nodes = 0;
        ReadGraph(ref r, g, g, tensors, "graph", 0, ref nodes);
        if (minor >= 1) ReadPrepacked(ref r, g, tensors);
        if (!r.AtEnd) throw r.Error("unexpected bytes after the graph", "graph");
    }

    /// <summary>The pre-packed operands (format 1.1 on): float32 blobs from the directory, keyed, under one fingerprint.</summary>
    private static void ReadPrepacked(ref FimSectionReader r, ModelGraph g, TensorData[] tensors)
    {
        string fingerprint = r.Str("prepacked.fingerprint");
        int count = r.Count("prepacked.count", 8);
        if (count > 0 && fingerprint.Length == 0) throw r.Error($"{count} pre-packed blobs without a layout fingerprint", "prepacked.fingerprint");
        if (count == 0) return;
        var prepacked = new PrepackedWeights(fingerprint);
        for (int i = 0; i < count; i++)
        {
            string key = r.Str($"prepacked[{i}].key");
            string where = $"prepacked[{i}] '{key}'";
            var t = Tensor(ref r, tensors, where);
            if (t.ElementType != DataType.Float || t.Strings is not null) throw r.Error($"a pre-packed blob must hold float32 values, not {t.ElementType}", where);
            if (!prepacked.Blobs.TryAdd(key, t)) throw r.Error("the key appears twice", where);
        }
        g.Prepacked = prepacked;
    }

    private static void ReadGraph(ref FimSectionReader r, ModelGraph root, ModelGraph g, TensorData[] tensors, string at, int depth, ref int nodes)
    {
        g.Name = r.Str(at + ".name");
        int inits = r.Count(at + ".initializer.count", 8);
        for (int i = 0; i < inits; i++)
        {
            string name = r.Str($"{at}.initializer[{i}].name");
            g.Initializers[name] = Tensor(ref r, tensors, $"{at}.initializer[{i}] '{name}'");
        }
        ReadValueInfos(ref r, g.Inputs, at + ".input");
        ReadValueInfos(ref r, g.Outputs, at + ".output");
        ReadValueInfos(ref r, g.ValueInfos, at + ".value_info");
        int count = r.Count(at + ".node.count", 24);
        for (int i = 0; i < count; i++)
        {
            if (++nodes > r.Limits.MaxNodes) throw r.Error($"more than {r.Limits.MaxNodes} nodes (ReaderLimits.MaxNodes)", $"{at}.node[{i}]");
            string where = $"{at}.node[{i}]";
            var node = new Node { Name = r.Str(where + ".name"), OpType = r.Str(where + ".op_type"), Domain = r.Str(where + ".domain") };
            if (node.Name.Length > 0) where = $"{where} '{node.Name}'";
            int ni = r.Count(where + ".input.count", 4);
            for (int k = 0; k < ni; k++) node.Inputs.Add(r.Str($"{where}.input[{k}]"));
            int no = r.Count(where + ".output.count", 4);
            for (int k = 0; k < no; k++) node.Outputs.Add(r.Str($"{where}.output[{k}]"));
            int na = r.Count(where + ".attribute.count", 5);
            for (int k = 0; k < na; k++)
            {
                var a = ReadAttribute(ref r, root, tensors, $"{where}.attribute[{k}]", depth, ref nodes);
                node.Attributes[a.Name] = a;
            }
            g.Nodes.Add(node);
        }
    }

    private static TensorData Tensor(ref FimSectionReader r, TensorData[] tensors, string at)
    {
        int idx = r.I32(at + ".tensor_index");
        if ((uint)idx >= (uint)tensors.Length) throw r.Error($"tensor index {idx} is outside the directory of {tensors.Length}", at + ".tensor_index");
        return tensors[idx];
    }

    private static void ReadValueInfos(ref FimSectionReader r, List<ValueInfo> list, string at)
    {
        int count = r.Count(at + ".count", 9);
        for (int i = 0; i < count; i++)
        {
            string where = $"{at}[{i}]";
            string name = r.Str(where + ".name");
            int typeCode = r.I32(where + ".elem_type");
            if (!DataTypeExtensions.IsDefined(typeCode)) throw r.Error($"unknown element type {typeCode}", where + ".elem_type");
            Dimension[]? shape = null;
            if (r.Bool(where + ".has_shape"))
            {
                int rank = r.Count(where + ".rank", 5, r.Limits.MaxRank);
                shape = new Dimension[rank];
                for (int d = 0; d < rank; d++)
                {
                    byte kind = r.U8($"{where}.dims[{d}].kind");
                    if (kind == DimFixed)
                    {
                        long v = r.I64($"{where}.dims[{d}]");
                        if (v < 0 || v > r.Limits.MaxDim) throw r.Error($"dimension {v} is negative or over the limit of {r.Limits.MaxDim}", $"{where}.dims[{d}]");
                        shape[d] = Dimension.Fixed(v);
                    }
                    else if (kind == DimSymbolic) shape[d] = Dimension.Symbolic(r.Str($"{where}.dims[{d}].symbol"));
                    else throw r.Error($"unknown dimension kind {kind}", $"{where}.dims[{d}].kind");
                }
            }
            list.Add(new ValueInfo(name, (DataType)typeCode, shape));
        }
    }

    private static NodeAttribute ReadAttribute(ref FimSectionReader r, ModelGraph root, TensorData[] tensors, string at, int depth, ref int nodes)
    {
        string name = r.Str(at + ".name");
        at = $"{at} '{name}'";
        byte kindCode = r.U8(at + ".kind");
        var kind = (AttributeKind)kindCode;
        switch (kind)
        {
            case AttributeKind.Float: return new NodeAttribute { Name = name, Kind = kind, Float = r.F32(at) };
            case AttributeKind.Int: return new NodeAttribute { Name = name, Kind = kind, Int = r.I64(at) };
            case AttributeKind.String: return new NodeAttribute { Name = name, Kind = kind, String = r.Str(at) };
            case AttributeKind.Tensor: return new NodeAttribute { Name = name, Kind = kind, Tensor = Tensor(ref r, tensors, at) };
            case AttributeKind.Graph: return new NodeAttribute { Name = name, Kind = kind, Graph = Subgraph(ref r, root, tensors, at, depth, ref nodes) };
            case AttributeKind.Floats:
            {
                var v = new float[r.Count(at + ".count", 4)];
                for (int i = 0; i < v.Length; i++) v[i] = r.F32(at);
                return new NodeAttribute { Name = name, Kind = kind, Floats = v };
            }
            case AttributeKind.Ints:
            {
                var v = new long[r.Count(at + ".count", 8)];
                for (int i = 0; i < v.Length; i++) v[i] = r.I64(at);
                return new NodeAttribute { Name = name, Kind = kind, Ints = v };
            }
            case AttributeKind.Strings:
            {
                var v = new string[r.Count(at + ".count", 4)];
                for (int i = 0; i < v.Length; i++) v[i] = r.Str($"{at}[{i}]");
                return new NodeAttribute { Name = name, Kind = kind, Strings = v };
            }
            case AttributeKind.Tensors:
            {
                var v = new TensorData[r.Count(at + ".count", 4)];
                for (int i = 0; i < v.Length; i++) v[i] = Tensor(ref r, tensors, $"{at}[{i}]");
                return new NodeAttribute { Name = name, Kind = kind, Tensors = v };
            }
            case AttributeKind.Graphs:
            {
                var v = new ModelGraph[r.Count(at + ".count", 16)];
                for (int i = 0; i < v.Length; i++) v[i] = Subgraph(ref r, root, tensors, $"{at}[{i}]", depth, ref nodes);
                return new NodeAttribute { Name = name, Kind = kind, Graphs = v };
            }
            case AttributeKind.Undefined: return new NodeAttribute { Name = name, Kind = kind };
            default: throw r.Error($"unknown or unsupported attribute kind {kindCode}", at + ".kind");
        }
    }

    private static ModelGraph Subgraph(ref FimSectionReader r, ModelGraph root, TensorData[] tensors, string at, int depth, ref int nodes)
    {
        if (depth + 1 > r.Limits.MaxGraphDepth)
            throw r.Error($"subgraphs nested deeper than {r.Limits.MaxGraphDepth} levels (ReaderLimits.MaxGraphDepth)", at);
        // Subgraph tensors live in the root's memory; the root owns the subgraph so both go together.
        var sub = new ModelGraph { SourcePath = root.SourcePath, SourceFormat = root.SourceFormat };
        root.Own(sub);
        ReadGraph(ref r, root, sub, tensors, at + ".graph", depth + 1, ref nodes);
        sub.IrVersion = root.IrVersion;
        foreach (var (d, v) in root.OpsetImports) sub.OpsetImports[d] = v;
        return sub;
    }
}
