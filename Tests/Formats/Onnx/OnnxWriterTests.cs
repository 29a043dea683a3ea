using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;
using DT = global::Onnx.TensorProto.Types.DataType;
using AT = global::Onnx.AttributeProto.Types.AttributeType;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary><see cref="OnnxWriter"/> output checked by Google's parser, and read back by ours.</summary>
public class OnnxWriterTests
{
    /// <summary>A model in the canonical form our writer emits (raw_data tensors, packed lists), so Google's parse of
    /// read → write must equal it field for field.</summary>
    private static Pb.ModelProto CanonicalModel()
    {
        var sub = new Pb.GraphProto { Name = "body" };
        sub.Input.Add(PbBuild.Value("s_in", DT.Float, 2));
        sub.Output.Add(PbBuild.Value("s_out", DT.Float, 2));
        sub.Initializer.Add(PbBuild.Raw("s_k", DT.Int64, [2], new[] { 7L, -8 }));
        sub.Node.Add(new Pb.NodeProto { Name = "s_add", OpType = "Add", Input = { "s_in", "s_k" }, Output = { "s_out" } });

        var g = new Pb.GraphProto { Name = "canon" };
        g.Input.Add(PbBuild.Value("X", DT.Float, "batch", 3, null, 224L));
        g.Input.Add(new Pb.ValueInfoProto { Name = "untyped" });
        g.Output.Add(new Pb.ValueInfoProto { Name = "Y", Type = new Pb.TypeProto { TensorType = new Pb.TypeProto.Types.Tensor { ElemType = (int)DT.Float } } });
        g.ValueInfo.Add(PbBuild.Value("mid", DT.Float16, 0L, 5));
        g.Initializer.Add(PbBuild.Raw("W", DT.Float, [2, 3], new[] { 1f, 2, 3, 4, 5, 6 }));
        g.Initializer.Add(PbBuild.Raw("h", DT.Float16, [2], new[] { (Half)1, (Half)2 }));
        g.Initializer.Add(PbBuild.Raw("bo", DT.Bool, [3], new byte[] { 1, 0, 1 }));
        g.Initializer.Add(PbBuild.Raw("scalar", DT.Double, [], new[] { 2.5 }));
        g.Initializer.Add(new Pb.TensorProto { Name = "empty", DataType = (int)DT.Float, Dims = { 0, 4 } });
        g.Initializer.Add(new Pb.TensorProto { Name = "str", DataType = (int)DT.String, Dims = { 2 }, StringData = { ByteString.CopyFromUtf8("x"), ByteString.CopyFromUtf8("yz") } });

        var n = new Pb.NodeProto { Name = "custom", OpType = "Custom", Domain = "com.test", Input = { "X", "", "W" }, Output = { "Y" } };
        n.Attribute.Add(new Pb.AttributeProto { Name = "alpha", Type = AT.Float, F = 0.5f });
        n.Attribute.Add(new Pb.AttributeProto { Name = "zero", Type = AT.Float, F = 0f });
        n.Attribute.Add(new Pb.AttributeProto { Name = "axis", Type = AT.Int, I = -3 });
        n.Attribute.Add(new Pb.AttributeProto { Name = "mode", Type = AT.String, S = ByteString.CopyFromUtf8("linear") });
        n.Attribute.Add(new Pb.AttributeProto { Name = "value", Type = AT.Tensor, T = PbBuild.Raw("tv", DT.Int32, [2], new[] { 1, -2 }) });
        n.Attribute.Add(new Pb.AttributeProto { Name = "body", Type = AT.Graph, G = sub });
        n.Attribute.Add(new Pb.AttributeProto { Name = "scales", Type = AT.Floats, Floats = { 1.5f, -2f } });
        n.Attribute.Add(new Pb.AttributeProto { Name = "pads", Type = AT.Ints, Ints = { 1, 2, -3 } });
        n.Attribute.Add(new Pb.AttributeProto { Name = "names", Type = AT.Strings, Strings = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b") } });
        n.Attribute.Add(new Pb.AttributeProto { Name = "tensors", Type = AT.Tensors, Tensors = { PbBuild.Raw("t1", DT.Uint8, [1], new byte[] { 9 }) } });
        n.Attribute.Add(new Pb.AttributeProto { Name = "graphs", Type = AT.Graphs, Graphs = { sub.Clone(), sub.Clone() } });
        g.Node.Add(n);
        g.Node.Add(new Pb.NodeProto { OpType = "Relu", Input = { "Y" }, Output = { "Z" } });

        var m = PbBuild.Model(g, ir: 9, opset: 21);
        m.ProducerVersion = "0.1";
        m.OpsetImport.Add(new Pb.OperatorSetIdProto { Domain = "com.test", Version = 2 });
        m.MetadataProps.Add(new Pb.StringStringEntryProto { Key = "k", Value = "v" });
        return m;
    }

    [Fact]
    public void Written_model_parses_with_Google_and_equals_the_original()
    {
        var original = CanonicalModel();
        using var graph = OnnxReader.Load(original.ToByteArray());
        byte[] written = OnnxWriter.ToBytes(graph);
        var reparsed = Pb.ModelProto.Parser.ParseFrom(written);
        Assert.Equal(original, reparsed);
    }

    [Fact]
    public void Typed_fields_round_trip_through_the_writer_value_for_value()
    {
        using var a = OnnxReader.Load(OnnxReaderTests.FullModel().ToByteArray());
        var bytes = OnnxWriter.ToBytes(a);
        var google = Pb.ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(7, google.IrVersion);
        Assert.DoesNotContain(google.Graph.Input, i => i.Name == "W");
        using var b = OnnxReader.Load(bytes);
        OnnxGraphAssert.Equal(a, b);
    }

    [Fact]
    public void Before_IR_4_initializers_are_also_written_as_inputs()
    {
        var old = PbBuild.SmallConv();
        old.IrVersion = 3;
        using var g = OnnxReader.Load(old.ToByteArray());
        Assert.Equal(["x"], g.Inputs.Select(i => i.Name));
        var m = Pb.ModelProto.Parser.ParseFrom(OnnxWriter.ToBytes(g));
        Assert.Equal(["x", "w", "b"], m.Graph.Input.Select(i => i.Name));
        Assert.Equal([3L, 2, 3, 3], m.Graph.Input[1].Type.TensorType.Shape.Dim.Select(d => d.DimValue));
    }

    [Fact]
    public void IR_version_defaults_to_8_for_built_graphs()
    {
        using var g = new ModelGraph { Name = "built" };
        g.OpsetImports[""] = 17;
        g.Inputs.Add(new ValueInfo("x", DataType.Float, [Dimension.Symbolic("n")]));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, [Dimension.Symbolic("n")]));
        g.Nodes.Add(new Node { OpType = "Relu", Inputs = { "x" }, Outputs = { "y" } });
        var m = Pb.ModelProto.Parser.ParseFrom(OnnxWriter.ToBytes(g));
        Assert.Equal(8, m.IrVersion);
        Assert.Equal("n", m.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(17, m.OpsetImport.Single().Version);
    }

    [Fact]
    public void Large_tensors_go_to_an_aligned_external_data_file()
    {
        string dir = Directory.CreateTempSubdirectory("fi-onnx-ext-").FullName;
        try
        {
            using var g = new ModelGraph { Name = "ext" };
            g.OpsetImports[""] = 17;
            var big = Enumerable.Range(0, 3000).Select(i => i * 0.5f).ToArray();
            var big2 = Enumerable.Range(0, 1500).Select(i => (long)i * 3).ToArray();
            g.Initializers["big"] = TensorData.Create<float>(g, "big", DataType.Float, [3000], big);
            g.Initializers["small"] = TensorData.Create<float>(g, "small", DataType.Float, [2], [1f, 2f]);
            g.Initializers["big2"] = TensorData.Create<long>(g, "big2", DataType.Int64, [1500], big2);
            g.Inputs.Add(new ValueInfo("x", DataType.Float, [Dimension.Fixed(3000)]));
            g.Outputs.Add(new ValueInfo("y", DataType.Float, [Dimension.Fixed(3000)]));
            g.Nodes.Add(new Node { OpType = "Add", Inputs = { "x", "big" }, Outputs = { "y" } });

            string path = Path.Combine(dir, "model.onnx");
            OnnxWriter.Save(g, path, new OnnxWriteOptions { ExternalDataThreshold = 1024 });

            string data = Path.Combine(dir, "model.onnx.data");
            Assert.True(File.Exists(data));
            Assert.Equal(12288 + 12000, new FileInfo(data).Length); // 12000 bytes at 0, then 12000 at the next 4096 boundary
            Assert.True(new FileInfo(path).Length < 1000, "weights over the threshold must not be inline");

            var m = Pb.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            var t = m.Graph.Initializer.Single(i => i.Name == "big2");
            Assert.Equal(Pb.TensorProto.Types.DataLocation.External, t.DataLocation);
            var kv = t.ExternalData.ToDictionary(e => e.Key, e => e.Value);
            Assert.Equal("model.onnx.data", kv["location"]);
            Assert.Equal("12288", kv["offset"]);
            Assert.Equal("12000", kv["length"]);
            Assert.Equal(0, long.Parse(kv["offset"]) % 4096);
            Assert.False(m.Graph.Initializer.Single(i => i.Name == "small").RawData.IsEmpty);

            using var back = OnnxReader.Load(path);
            Assert.Equal(big, back.Initializers["big"].AsSpan<float>().ToArray());
            Assert.Equal(big2, back.Initializers["big2"].AsSpan<long>().ToArray());
            Assert.Equal([1f, 2f], back.Initializers["small"].AsSpan<float>().ToArray());

            // Loading the same bytes from memory without a folder is refused clearly, not silently.
            var e = Assert.Throws<FastInfer.Formats.ModelFormatException>(() => OnnxReader.Load(File.ReadAllBytes(path)));
            Assert.Contains("external data", e.Message);
            using var fromMemory = OnnxReader.Load(File.ReadAllBytes(path), baseDirectory: dir);
            Assert.Equal(big2, fromMemory.Initializers["big2"].AsSpan<long>().ToArray());
        }
        finally { Directory.Delete(dir, true); }
    }
}
