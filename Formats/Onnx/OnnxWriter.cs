using System.Globalization;
using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Writes a <see cref="ModelGraph"/> as an ONNX ModelProto, weights as raw_data or as external data.</summary>
public static class OnnxWriter
{
    /// <summary>IR version written for graphs that carry none (0).</summary>
    public const long DefaultIrVersion = 8;

    /// <summary>Writes <paramref name="graph"/> to <paramref name="path"/>, streaming (the file is never built in memory).</summary>
    public static void Save(ModelGraph graph, string path, OnnxWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(path);
        ExternalDataPlan? plan = null;
        if (options?.ExternalDataThreshold is long threshold)
        {
            string dataName = Path.GetFileName(path) + ".data";
            plan = ExternalDataPlan.Create(graph, dataName, Math.Max(0, threshold));
            if (plan.IsEmpty) plan = null;
            else plan.WriteFile(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, dataName));
        }
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        WriteModel(ProtoWriter.To(stream), graph, plan);
    }

    /// <summary>The model as bytes, every tensor inline (so the model must be under 2 GB).</summary>
    public static byte[] ToBytes(ModelGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        using var stream = new MemoryStream();
        WriteModel(ProtoWriter.To(stream), graph, null);
        return stream.ToArray();
    }

    private static void WriteModel(ProtoWriter w, ModelGraph g, ExternalDataPlan? plan)
    {
        long ir = g.IrVersion == 0 ? DefaultIrVersion : g.IrVersion;
        w.Int64Field(1, ir);
        if (g.ProducerName.Length > 0) w.StringField(2, g.ProducerName);
        if (g.ProducerVersion.Length > 0) w.StringField(3, g.ProducerVersion);
        w.Message(7, (g, plan, ir), static (w, s) => WriteGraph(w, s.g, s.plan, s.ir));
        foreach (var (domain, version) in g.OpsetImports)
            w.Message(8, (domain, version), static (w, s) =>
            {
                if (s.domain.Length > 0) w.StringField(1, s.domain);
                w.Int64Field(2, s.version);
            });
        foreach (var (key, value) in g.Metadata) w.Message(14, (key, value), WritePair);
    }

    private static void WritePair(ProtoWriter w, (string Key, string Value) s)
    {
        if (s.Key.Length > 0) w.StringField(1, s.Key);
        if (s.Value.Length > 0) w.StringField(2, s.Value);
    }

    private static void WriteGraph(ProtoWriter w, ModelGraph g, ExternalDataPlan? plan, long ir)
    {
        foreach (var node in g.Nodes) w.Message(1, (node, plan, ir), static (w, s) => WriteNode(w, s.node, s.plan, s.ir));
        if (g.Name.Length > 0) w.StringField(2, g.Name);
        foreach (var t in g.Initializers.Values) w.Message(5, (t, plan), static (w, s) => WriteTensor(w, s.t, s.plan));
        foreach (var v in g.Inputs) w.Message(11, v, WriteValueInfo);
        // Before IR 4 every initializer had to be listed as a graph input too.
        if (ir < 4)
            foreach (var t in g.Initializers.Values)
                if (!g.Inputs.Exists(i => i.Name == t.Name))
                    w.Message(11, new ValueInfo(t.Name, t.ElementType, t.Dims.Select(Dimension.Fixed).ToArray()), WriteValueInfo);
        foreach (var v in g.Outputs) w.Message(12, v, WriteValueInfo);
        foreach (var v in g.ValueInfos) w.Message(13, v, WriteValueInfo);
    }

    private static void WriteNode(ProtoWriter w, Node n, ExternalDataPlan? plan, long ir)
    {
        foreach (var i in n.Inputs) w.StringField(1, i);
        foreach (var o in n.Outputs) w.StringField(2, o);
        if (n.Name.Length > 0) w.StringField(3, n.Name);
        w.StringField(4, n.OpType);
        if (n.Domain.Length > 0) w.StringField(7, n.Domain);
        foreach (var a in n.Attributes.Values) w.Message(5, (a, plan, ir), static (w, s) => WriteAttribute(w, s.a, s.plan, s.ir));
    }

    private static void WriteAttribute(ProtoWriter w, NodeAttribute a, ExternalDataPlan? plan, long ir)
    {
        w.StringField(1, a.Name);
        if (a.Kind != AttributeKind.Undefined) w.Int64Field(20, (long)a.Kind);
        switch (a.Kind)
        {
            case AttributeKind.Float: w.Fixed32Field(2, BitConverter.SingleToUInt32Bits(a.Float)); break;
            case AttributeKind.Int: w.Int64Field(3, a.Int); break;
            case AttributeKind.String: w.StringField(4, a.String ?? ""); break;
            case AttributeKind.Tensor when a.Tensor is not null: w.Message(5, (a.Tensor, plan), static (w, s) => WriteTensor(w, s.Tensor, s.plan)); break;
            case AttributeKind.Graph when a.Graph is not null: w.Message(6, (a.Graph, plan, ir), static (w, s) => WriteGraph(w, s.Graph, s.plan, s.ir)); break;
            case AttributeKind.Floats when a.Floats is { Length: > 0 }:
                w.Message(7, a.Floats, static (w, f) =>
                {
                    Span<byte> b = stackalloc byte[4];
                    foreach (float v in f)
                    {
                        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(b, v);
                        w.Bytes(b);
                    }
                });
                break;
            case AttributeKind.Ints when a.Ints is { Length: > 0 }:
                w.Message(8, a.Ints, static (w, ints) => { foreach (long v in ints) w.Varint((ulong)v); });
                break;
            case AttributeKind.Strings when a.Strings is not null:
                foreach (var s in a.Strings) w.StringField(9, s);
                break;
            case AttributeKind.Tensors when a.Tensors is not null:
                foreach (var t in a.Tensors) w.Message(10, (t, plan), static (w, s) => WriteTensor(w, s.t, s.plan));
                break;
            case AttributeKind.Graphs when a.Graphs is not null:
                foreach (var sg in a.Graphs) w.Message(11, (sg, plan, ir), static (w, s) => WriteGraph(w, s.sg, s.plan, s.ir));
                break;
        }
    }

    private static void WriteTensor(ProtoWriter w, TensorData t, ExternalDataPlan? plan)
    {
        if (t.Dims.Length > 0)
            w.Message(1, t.Dims, static (w, dims) => { foreach (long d in dims) w.Varint((ulong)d); });
        w.Int64Field(2, (long)t.ElementType);
        if (t.Name.Length > 0) w.StringField(8, t.Name);
        if (t.Strings is not null)
        {
            foreach (var s in t.Strings) w.StringField(6, s);
        }
        else if (plan is not null && plan.TryGetOffset(t, out long offset))
        {
            w.Message(13, ("location", plan.FileName), WritePair);
            w.Message(13, ("offset", offset.ToString(CultureInfo.InvariantCulture)), WritePair);
            w.Message(13, ("length", t.ByteLength.ToString(CultureInfo.InvariantCulture)), WritePair);
            w.Int64Field(14, 1);
        }
        else if (t.ByteLength > 0)
        {
            w.NativeField(9, t.Pointer, t.ByteLength);
        }
    }

    private static void WriteValueInfo(ProtoWriter w, ValueInfo v)
    {
        w.StringField(1, v.Name);
        if (v.ElementType == DataType.Undefined && v.Shape is null) return;
        w.Message(2, v, static (w, v) => w.Message(1, v, static (w, v) =>
        {
            if (v.ElementType != DataType.Undefined) w.Int64Field(1, (long)v.ElementType);
            if (v.Shape is not null)
                w.Message(2, v.Shape, static (w, shape) =>
                {
                    foreach (var d in shape)
                        w.Message(1, d, static (w, d) =>
                        {
                            if (d.IsFixed) w.Int64Field(1, d.Value);
                            else if (d.Symbol is not null) w.StringField(2, d.Symbol);
                        });
                });
        }));
    }
}
