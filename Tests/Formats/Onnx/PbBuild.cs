using System.Runtime.InteropServices;
using Google.Protobuf;
using Pb = global::Onnx;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>Builds test models with Google's generated protobuf classes (an implementation independent of ours), and raw wire bytes.</summary>
internal static class PbBuild
{
    public static Pb.TypeProto TensorType(Pb.TensorProto.Types.DataType type, params object?[]? dims)
    {
        var t = new Pb.TypeProto.Types.Tensor { ElemType = (int)type };
        if (dims is not null)
        {
            t.Shape = new Pb.TensorShapeProto();
            foreach (var d in dims)
            {
                var dim = new Pb.TensorShapeProto.Types.Dimension();
                if (d is long l) dim.DimValue = l;
                else if (d is int i) dim.DimValue = i;
                else if (d is string s) dim.DimParam = s;
                t.Shape.Dim.Add(dim);
            }
        }
        return new Pb.TypeProto { TensorType = t };
    }

    public static Pb.ValueInfoProto Value(string name, Pb.TensorProto.Types.DataType type, params object?[]? dims) =>
        new() { Name = name, Type = TensorType(type, dims) };

    public static Pb.TensorProto Raw<T>(string name, Pb.TensorProto.Types.DataType type, long[] dims, T[] values) where T : unmanaged
    {
        var t = new Pb.TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.AddRange(dims);
        return t;
    }

    public static Pb.ModelProto Model(Pb.GraphProto graph, long ir = 8, long opset = 17)
    {
        var m = new Pb.ModelProto { IrVersion = ir, Graph = graph, ProducerName = "test" };
        m.OpsetImport.Add(new Pb.OperatorSetIdProto { Domain = "", Version = opset });
        return m;
    }

    /// <summary>A small valid model: Conv → Relu with a weight initializer (raw_data) and a bias (float_data).</summary>
    public static Pb.ModelProto SmallConv()
    {
        var g = new Pb.GraphProto { Name = "small" };
        g.Input.Add(Value("x", Pb.TensorProto.Types.DataType.Float, "N", 2, 5, 5));
        g.Output.Add(Value("y", Pb.TensorProto.Types.DataType.Float, "N", 3, 5, 5));
        g.Initializer.Add(Raw("w", Pb.TensorProto.Types.DataType.Float, [3, 2, 3, 3], Enumerable.Range(0, 54).Select(i => i * 0.25f).ToArray()));
        var b = new Pb.TensorProto { Name = "b", DataType = (int)Pb.TensorProto.Types.DataType.Float };
        b.Dims.Add(3);
        b.FloatData.AddRange([0.5f, -1f, 2f]);
        g.Initializer.Add(b);
        var conv = new Pb.NodeProto { Name = "conv", OpType = "Conv", Input = { "x", "w", "b" }, Output = { "c" } };
        conv.Attribute.Add(new Pb.AttributeProto { Name = "pads", Type = Pb.AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        conv.Attribute.Add(new Pb.AttributeProto { Name = "kernel_shape", Type = Pb.AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
        g.Node.Add(conv);
        g.Node.Add(new Pb.NodeProto { Name = "relu", OpType = "Relu", Input = { "c" }, Output = { "y" } });
        return Model(g);
    }

    /// <summary>A model with an If whose branches are subgraphs holding their own constant.</summary>
    public static Pb.ModelProto SmallIf()
    {
        Pb.GraphProto Branch(string name, float v)
        {
            var b = new Pb.GraphProto { Name = name };
            b.Output.Add(Value(name + "_out", Pb.TensorProto.Types.DataType.Float, 1));
            var c = new Pb.NodeProto { OpType = "Constant", Output = { name + "_out" } };
            c.Attribute.Add(new Pb.AttributeProto { Name = "value", Type = Pb.AttributeProto.Types.AttributeType.Tensor, T = Raw("k", Pb.TensorProto.Types.DataType.Float, [1], new[] { v }) });
            b.Node.Add(c);
            return b;
        }
        var g = new Pb.GraphProto { Name = "if" };
        g.Input.Add(Value("cond", Pb.TensorProto.Types.DataType.Bool));
        g.Output.Add(Value("y", Pb.TensorProto.Types.DataType.Float, 1));
        var node = new Pb.NodeProto { Name = "if", OpType = "If", Input = { "cond" }, Output = { "y" } };
        node.Attribute.Add(new Pb.AttributeProto { Name = "then_branch", Type = Pb.AttributeProto.Types.AttributeType.Graph, G = Branch("then", 1) });
        node.Attribute.Add(new Pb.AttributeProto { Name = "else_branch", Type = Pb.AttributeProto.Types.AttributeType.Graph, G = Branch("else", 2) });
        g.Node.Add(node);
        return Model(g);
    }

    /// <summary>A model with string, int64 and float attributes and typed tensor fields.</summary>
    public static Pb.ModelProto SmallMixed()
    {
        var g = new Pb.GraphProto { Name = "mixed" };
        g.Input.Add(Value("x", Pb.TensorProto.Types.DataType.Float, 4));
        g.Output.Add(Value("y", Pb.TensorProto.Types.DataType.Float, 4));
        var shape = new Pb.TensorProto { Name = "shape", DataType = (int)Pb.TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { 2, 2 } };
        g.Initializer.Add(shape);
        var n = new Pb.NodeProto { Name = "act", OpType = "LeakyRelu", Input = { "x" }, Output = { "y" } };
        n.Attribute.Add(new Pb.AttributeProto { Name = "alpha", Type = Pb.AttributeProto.Types.AttributeType.Float, F = 0.1f });
        n.Attribute.Add(new Pb.AttributeProto { Name = "mode", Type = Pb.AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("x") });
        n.Attribute.Add(new Pb.AttributeProto { Name = "names", Type = Pb.AttributeProto.Types.AttributeType.Strings, Strings = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("bc") } });
        g.Node.Add(n);
        return Model(g);
    }

    // ---- raw wire helpers, for encodings Google's serializer never produces (unpacked repeated fields, bad bytes) ----

    public static byte[] Varint(ulong v)
    {
        var b = new List<byte>();
        while (v >= 0x80) { b.Add((byte)(v | 0x80)); v >>= 7; }
        b.Add((byte)v);
        return b.ToArray();
    }

    public static byte[] Tag(int field, int wire) => Varint(((ulong)field << 3) | (uint)wire);

    public static byte[] Len(int field, byte[] payload) => [.. Tag(field, 2), .. Varint((ulong)payload.Length), .. payload];

    public static byte[] VarintField(int field, long value) => [.. Tag(field, 0), .. Varint((ulong)value)];

    public static byte[] Fixed32Field(int field, float value) => [.. Tag(field, 5), .. BitConverter.GetBytes(value)];

    public static byte[] Str(int field, string s) => Len(field, System.Text.Encoding.UTF8.GetBytes(s));

    /// <summary>A model whose graph holds one node with the given raw node bytes appended, plus the given raw graph bytes.</summary>
    public static byte[] ModelWithGraphBytes(byte[] graphBytes, long ir = 8, long opset = 17) =>
        [.. VarintField(1, ir), .. Len(7, graphBytes), .. Len(8, VarintField(2, opset))];

    /// <summary>A model whose only initializer is the given TensorProto bytes.</summary>
    public static byte[] ModelWithTensorBytes(byte[] tensorBytes) => ModelWithGraphBytes(Len(5, tensorBytes));
}
