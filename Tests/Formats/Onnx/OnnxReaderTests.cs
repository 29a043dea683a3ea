using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;
using DT = global::Onnx.TensorProto.Types.DataType;
using AT = global::Onnx.AttributeProto.Types.AttributeType;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>Models built with Google's protobuf classes, parsed by <see cref="OnnxReader"/>, every field checked.</summary>
public class OnnxReaderTests
{
    private static Pb.TensorProto Typed(string name, DT type, long[] dims, Action<Pb.TensorProto> fill)
    {
        var t = new Pb.TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        fill(t);
        return t;
    }

    /// <summary>Every attribute kind, typed tensor fields, symbolic dims, subgraphs, metadata.</summary>
    internal static Pb.ModelProto FullModel()
    {
        var sub = new Pb.GraphProto { Name = "body" };
        sub.Input.Add(PbBuild.Value("s_in", DT.Float, 2));
        sub.Output.Add(PbBuild.Value("s_out", DT.Float, 2));
        sub.Initializer.Add(Typed("s_k", DT.Int64, [2], t => t.Int64Data.AddRange([7, -8])));
        sub.Node.Add(new Pb.NodeProto { Name = "s_add", OpType = "Add", Input = { "s_in", "s_k" }, Output = { "s_out" } });

        var g = new Pb.GraphProto { Name = "full" };
        g.Input.Add(PbBuild.Value("X", DT.Float, "batch", 3, null, 224L));
        g.Input.Add(PbBuild.Value("W", DT.Float, 2, 3)); // also an initializer: a constant, dropped from Inputs
        g.Output.Add(new Pb.ValueInfoProto { Name = "Y", Type = new Pb.TypeProto { TensorType = new Pb.TypeProto.Types.Tensor { ElemType = (int)DT.Float } } });
        g.Output.Add(new Pb.ValueInfoProto
        {
            Name = "Seq",
            Type = new Pb.TypeProto { SequenceType = new Pb.TypeProto.Types.Sequence { ElemType = PbBuild.TensorType(DT.Float, 1) } },
        });
        g.ValueInfo.Add(PbBuild.Value("mid", DT.Float16));
        g.Initializer.Add(Typed("W", DT.Float, [2, 3], t => t.FloatData.AddRange([1, 2, 3, 4, 5, 6.5f])));
        g.Initializer.Add(Typed("i64", DT.Int64, [4], t => t.Int64Data.AddRange([long.MinValue, -1, 0, long.MaxValue])));
        g.Initializer.Add(Typed("i8", DT.Int8, [3], t => t.Int32Data.AddRange([-128, -1, 127])));
        g.Initializer.Add(Typed("u8", DT.Uint8, [2], t => t.Int32Data.AddRange([0, 255])));
        g.Initializer.Add(Typed("i16", DT.Int16, [2], t => t.Int32Data.AddRange([-32768, 32767])));
        g.Initializer.Add(Typed("f16", DT.Float16, [2], t => t.Int32Data.AddRange([(int)BitConverter.HalfToUInt16Bits((Half)1.5f), (int)BitConverter.HalfToUInt16Bits((Half)(-2f))])));
        g.Initializer.Add(Typed("bf16", DT.Bfloat16, [1], t => t.Int32Data.Add(0x3F80)));
        g.Initializer.Add(Typed("b", DT.Bool, [3], t => t.Int32Data.AddRange([1, 0, 1])));
        g.Initializer.Add(Typed("i32", DT.Int32, [2], t => t.Int32Data.AddRange([int.MinValue, int.MaxValue])));
        g.Initializer.Add(Typed("d", DT.Double, [2], t => t.DoubleData.AddRange([Math.PI, -0.5])));
        g.Initializer.Add(Typed("u32", DT.Uint32, [2], t => t.Uint64Data.AddRange([0, uint.MaxValue])));
        g.Initializer.Add(Typed("u64", DT.Uint64, [1], t => t.Uint64Data.Add(ulong.MaxValue)));
        g.Initializer.Add(Typed("c64", DT.Complex64, [1], t => t.FloatData.AddRange([1, -1])));
        g.Initializer.Add(Typed("str", DT.String, [2], t => t.StringData.AddRange([ByteString.CopyFromUtf8("héllo"), ByteString.Empty])));
        g.Initializer.Add(Typed("scalar", DT.Float, [], t => t.FloatData.Add(42)));
        g.Initializer.Add(Typed("empty", DT.Float, [0, 3], _ => { }));
        g.Initializer.Add(PbBuild.Raw("raw", DT.Float, [2], new[] { 0.25f, -0.75f }));
        g.Initializer.Add(Typed("i4", DT.Int4, [3], t => t.Int32Data.AddRange([0x21, 0x03])));

        var n = new Pb.NodeProto { Name = "custom", OpType = "Custom", Domain = "com.test", Input = { "X", "", "W" }, Output = { "Y", "Seq" } };
        n.Attribute.Add(new Pb.AttributeProto { Name = "alpha", Type = AT.Float, F = 0.5f });
        n.Attribute.Add(new Pb.AttributeProto { Name = "axis", Type = AT.Int, I = -3 });
        n.Attribute.Add(new Pb.AttributeProto { Name = "mode", Type = AT.String, S = ByteString.CopyFromUtf8("linear") });
        n.Attribute.Add(new Pb.AttributeProto { Name = "value", Type = AT.Tensor, T = Typed("tv", DT.Float, [2, 2], t => t.FloatData.AddRange([1, 2, 3, 4])) });
        n.Attribute.Add(new Pb.AttributeProto { Name = "body", Type = AT.Graph, G = sub });
        n.Attribute.Add(new Pb.AttributeProto { Name = "scales", Type = AT.Floats, Floats = { 1.5f, -2f } });
        n.Attribute.Add(new Pb.AttributeProto { Name = "pads", Type = AT.Ints, Ints = { 1, 2, -3 } });
        n.Attribute.Add(new Pb.AttributeProto { Name = "names", Type = AT.Strings, Strings = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b") } });
        n.Attribute.Add(new Pb.AttributeProto
        {
            Name = "tensors", Type = AT.Tensors,
            Tensors = { Typed("tb", DT.Bool, [2], t => t.Int32Data.AddRange([0, 1])), Typed("td", DT.Double, [1], t => t.DoubleData.Add(2.5)) },
        });
        n.Attribute.Add(new Pb.AttributeProto { Name = "graphs", Type = AT.Graphs, Graphs = { sub.Clone(), sub.Clone() } });
        // Old exporters leave `type` unset; the kind comes from the populated field.
        n.Attribute.Add(new Pb.AttributeProto { Name = "old_int", I = 9 });
        n.Attribute.Add(new Pb.AttributeProto { Name = "old_floats", Floats = { 3f } });
        n.Attribute.Add(new Pb.AttributeProto { Name = "tp", Type = AT.TypeProto, Tp = PbBuild.TensorType(DT.Float, 1) });
        g.Node.Add(n);
        g.Node.Add(new Pb.NodeProto { OpType = "Constant", Output = { "c" }, Attribute = { new Pb.AttributeProto { Name = "value_float", Type = AT.Float, F = 1 } } });

        var m = PbBuild.Model(g, ir: 7, opset: 17);
        m.ProducerName = "unit";
        m.ProducerVersion = "1.2";
        m.OpsetImport.Add(new Pb.OperatorSetIdProto { Domain = "com.test", Version = 3 });
        m.MetadataProps.Add(new Pb.StringStringEntryProto { Key = "author", Value = "me" });
        m.MetadataProps.Add(new Pb.StringStringEntryProto { Key = "license", Value = "MIT" });
        return m;
    }

    [Fact]
    public void Reads_every_field_of_a_full_model()
    {
        using var graph = OnnxReader.Load(FullModel().ToByteArray(), sourceName: "full.onnx");
        Assert.Equal("onnx", graph.SourceFormat);
        Assert.Equal("full.onnx", graph.SourcePath);
        Assert.Equal(7, graph.IrVersion);
        Assert.Equal("unit", graph.ProducerName);
        Assert.Equal("1.2", graph.ProducerVersion);
        Assert.Equal(17, graph.Opset);
        Assert.Equal(3, graph.OpsetImports["com.test"]);
        Assert.Equal("me", graph.Metadata["author"]);
        Assert.Equal("MIT", graph.Metadata["license"]);
        Assert.Equal("full", graph.Name);

        var x = Assert.Single(graph.Inputs);
        Assert.Equal("X", x.Name);
        Assert.Equal(DataType.Float, x.ElementType);
        Assert.Equal([Dimension.Symbolic("batch"), Dimension.Fixed(3), Dimension.Symbolic(null), Dimension.Fixed(224)], x.Shape!);
        Assert.Equal(2, graph.Outputs.Count);
        Assert.Equal(new ValueInfo("Y", DataType.Float, null), graph.Outputs[0]);
        Assert.Equal(new ValueInfo("Seq", DataType.Undefined, null), graph.Outputs[1]);
        Assert.Equal("mid", graph.ValueInfos[0].Name);
        Assert.Equal(DataType.Float16, graph.ValueInfos[0].ElementType);

        var init = graph.Initializers;
        Assert.Equal([1, 2, 3, 4, 5, 6.5f], init["W"].AsSpan<float>().ToArray());
        Assert.Equal([2L, 3L], init["W"].Dims);
        Assert.Equal([long.MinValue, -1, 0, long.MaxValue], init["i64"].AsSpan<long>().ToArray());
        Assert.Equal([(sbyte)-128, (sbyte)-1, (sbyte)127], init["i8"].AsSpan<sbyte>().ToArray());
        Assert.Equal([(byte)0, (byte)255], init["u8"].AsSpan<byte>().ToArray());
        Assert.Equal([(short)-32768, (short)32767], init["i16"].AsSpan<short>().ToArray());
        Assert.Equal([(Half)1.5f, (Half)(-2f)], init["f16"].AsSpan<Half>().ToArray());
        Assert.Equal([(ushort)0x3F80], init["bf16"].AsSpan<ushort>().ToArray());
        Assert.Equal([(byte)1, (byte)0, (byte)1], init["b"].AsSpan<byte>().ToArray());
        Assert.Equal([int.MinValue, int.MaxValue], init["i32"].AsSpan<int>().ToArray());
        Assert.Equal([Math.PI, -0.5], init["d"].AsSpan<double>().ToArray());
        Assert.Equal([0u, uint.MaxValue], init["u32"].AsSpan<uint>().ToArray());
        Assert.Equal([ulong.MaxValue], init["u64"].AsSpan<ulong>().ToArray());
        Assert.Equal([1f, -1f], init["c64"].AsSpan<float>().ToArray());
        Assert.Equal(8, init["c64"].ByteLength);
        Assert.Equal(["héllo", ""], init["str"].Strings!);
        Assert.Equal(DataType.String, init["str"].ElementType);
        Assert.Empty(init["scalar"].Dims);
        Assert.Equal([42f], init["scalar"].AsSpan<float>().ToArray());
        Assert.Equal(0, init["empty"].ByteLength);
        Assert.Equal([0L, 3L], init["empty"].Dims);
        Assert.Equal([0.25f, -0.75f], init["raw"].AsSpan<float>().ToArray());
        Assert.Equal([(byte)0x21, (byte)0x03], init["i4"].AsSpan<byte>().ToArray());
        foreach (var t in init.Values)
            if (t.ByteLength > 0) Assert.Equal(0, t.Pointer % 64);

        Assert.Equal(2, graph.Nodes.Count);
        var n = graph.Nodes[0];
        Assert.Equal("custom", n.Name);
        Assert.Equal("Custom", n.OpType);
        Assert.Equal("com.test", n.Domain);
        Assert.Equal(["X", "", "W"], n.Inputs);
        Assert.Equal(["Y", "Seq"], n.Outputs);
        Assert.Equal(0.5f, n.Attribute("alpha")!.Float);
        Assert.Equal(AttributeKind.Float, n.Attribute("alpha")!.Kind);
        Assert.Equal(-3, n.Attribute("axis")!.Int);
        Assert.Equal("linear", n.Attribute("mode")!.String);
        var tv = n.Attribute("value")!.Tensor!;
        Assert.Equal("tv", tv.Name);
        Assert.Equal([1f, 2, 3, 4], tv.AsSpan<float>().ToArray());
        var body = n.Attribute("body")!.Graph!;
        AssertBody(body);
        Assert.Equal(17, body.Opset);
        Assert.Equal([1.5f, -2f], n.Attribute("scales")!.Floats!);
        Assert.Equal([1L, 2, -3], n.Attribute("pads")!.Ints!);
        Assert.Equal(["a", "b"], n.Attribute("names")!.Strings!);
        var tensors = n.Attribute("tensors")!.Tensors!;
        Assert.Equal([(byte)0, (byte)1], tensors[0].AsSpan<byte>().ToArray());
        Assert.Equal([2.5], tensors[1].AsSpan<double>().ToArray());
        var graphs = n.Attribute("graphs")!.Graphs!;
        Assert.Equal(2, graphs.Length);
        foreach (var sg in graphs) AssertBody(sg);
        Assert.Equal(AttributeKind.Int, n.Attribute("old_int")!.Kind);
        Assert.Equal(9, n.Attribute("old_int")!.Int);
        Assert.Equal(AttributeKind.Floats, n.Attribute("old_floats")!.Kind);
        Assert.Equal([3f], n.Attribute("old_floats")!.Floats!);
        Assert.Equal(AttributeKind.TypeProto, n.Attribute("tp")!.Kind);

        var c = graph.Nodes[1];
        Assert.Equal("Constant", c.OpType);
        Assert.Equal("", c.Name);
        Assert.Equal(1f, c.Attribute("value_float")!.Float);
    }

    private static void AssertBody(ModelGraph body)
    {
        Assert.Equal("body", body.Name);
        Assert.Equal("s_in", Assert.Single(body.Inputs).Name);
        Assert.Equal("s_out", Assert.Single(body.Outputs).Name);
        Assert.Equal([7L, -8], body.Initializers["s_k"].AsSpan<long>().ToArray());
        Assert.Equal("Add", Assert.Single(body.Nodes).OpType);
    }

    [Fact]
    public void Reads_unpacked_repeated_fields_as_old_writers_produce()
    {
        byte[] attr = [.. PbBuild.Str(1, "pads"), .. PbBuild.VarintField(20, 7),
            .. PbBuild.VarintField(8, 4), .. PbBuild.VarintField(8, -5), .. PbBuild.VarintField(8, 6)];
        byte[] attrF = [.. PbBuild.Str(1, "s"), .. PbBuild.Fixed32Field(7, 1.5f), .. PbBuild.Fixed32Field(7, 2.5f)]; // type unset
        byte[] node = [.. PbBuild.Str(4, "Pad"), .. PbBuild.Str(1, "x"), .. PbBuild.Str(2, "y"), .. PbBuild.Len(5, attr), .. PbBuild.Len(5, attrF)];
        byte[] tensor = [.. PbBuild.VarintField(1, 2), .. PbBuild.VarintField(1, 1), .. PbBuild.VarintField(2, 1), .. PbBuild.Str(8, "t"),
            .. PbBuild.Fixed32Field(4, 3f), .. PbBuild.Fixed32Field(4, 4f)];
        byte[] model = PbBuild.ModelWithGraphBytes([.. PbBuild.Len(1, node), .. PbBuild.Len(5, tensor)]);

        using var graph = OnnxReader.Load(model);
        var n = Assert.Single(graph.Nodes);
        Assert.Equal([4L, -5, 6], n.Attribute("pads")!.Ints!);
        Assert.Equal(AttributeKind.Floats, n.Attribute("s")!.Kind);
        Assert.Equal([1.5f, 2.5f], n.Attribute("s")!.Floats!);
        var t = graph.Initializers["t"];
        Assert.Equal([2L, 1], t.Dims);
        Assert.Equal([3f, 4f], t.AsSpan<float>().ToArray());
    }

    [Fact]
    public void Loads_from_a_file_and_unmaps_it()
    {
        string dir = Directory.CreateTempSubdirectory("fi-onnx-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.onnx");
            File.WriteAllBytes(path, PbBuild.SmallConv().ToByteArray());
            using (var graph = OnnxReader.Load(path))
            {
                Assert.Equal(path, graph.SourcePath);
                Assert.Equal(2, graph.Nodes.Count);
                Assert.Equal(Enumerable.Range(0, 54).Select(i => i * 0.25f), graph.Initializers["w"].AsSpan<float>().ToArray());
                Assert.Equal([0.5f, -1f, 2f], graph.Initializers["b"].AsSpan<float>().ToArray());
                Assert.Equal(57, graph.ParameterCount);
            }
            // The mapping and the handle are gone: the file can be replaced and deleted.
            File.WriteAllBytes(path, [1]);
            File.Delete(path);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Missing_file_is_FileNotFoundException_and_empty_file_is_ModelFormatException()
    {
        string missing = Path.Combine(Path.GetTempPath(), "fi-does-not-exist-" + Guid.NewGuid() + ".onnx");
        var e = Assert.Throws<FileNotFoundException>(() => OnnxReader.Load(missing));
        Assert.Contains(missing, e.Message);
        string empty = Path.GetTempFileName();
        try
        {
            var f = Assert.Throws<FastInfer.Formats.ModelFormatException>(() => OnnxReader.Load(empty));
            Assert.Contains("empty", f.Message);
        }
        finally { File.Delete(empty); }
    }

    [Fact]
    public void Tensor_file_reads_a_standalone_TensorProto()
    {
        var t = PbBuild.Raw("input", DT.Float, [2, 2], new[] { 1f, 2, 3, 4 });
        using var loaded = OnnxTensorFile.Read(t.ToByteArray());
        Assert.Equal("input", loaded.Tensor.Name);
        Assert.Equal([1f, 2, 3, 4], loaded.Tensor.AsSpan<float>().ToArray());
    }
}
