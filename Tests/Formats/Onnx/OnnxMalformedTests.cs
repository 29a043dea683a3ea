using FastInfer.Formats;
using FastInfer.Formats.Onnx;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;
using DT = global::Onnx.TensorProto.Types.DataType;
using AT = global::Onnx.AttributeProto.Types.AttributeType;
using static FastInfer.Tests.Formats.OnnxTests.PbBuild;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>Malformed, truncated and hostile input: each must fail with a <see cref="ModelFormatException"/> that says what and where.</summary>
public class OnnxMalformedTests
{
    private static ModelFormatException Fails(byte[] bytes, ReaderLimits? limits = null, string? baseDirectory = null) =>
        Assert.Throws<ModelFormatException>(() => OnnxReader.Load(bytes, baseDirectory, limits, "bad.onnx").Dispose());

    [Fact]
    public void Every_truncation_of_a_small_model_fails_cleanly()
    {
        var model = SmallConv();
        byte[] bytes = model.ToByteArray();
        // Where the graph's payload lies: any cut inside it must be an error (a cut between top-level fields is a
        // shorter but well-formed message, which protobuf cannot tell apart).
        int graphStart = new Pb.ModelProto { IrVersion = model.IrVersion, ProducerName = model.ProducerName }.CalculateSize();
        int graphEnd = graphStart + 1 + CodedOutputStream.ComputeLengthSize(model.Graph.CalculateSize()) + model.Graph.CalculateSize();
        for (int n = 0; n < bytes.Length; n++)
        {
            try
            {
                OnnxReader.Load(bytes.AsSpan(0, n), sourceName: "small.onnx").Dispose();
                Assert.False(n > graphStart && n < graphEnd, $"prefix of {n} bytes (inside the graph) was accepted");
            }
            catch (ModelFormatException e)
            {
                Assert.Contains("small.onnx", e.Message);
            }
        }
    }

    [ResNet18Fact]
    public void Random_truncations_of_ResNet18_fail_cleanly()
    {
        byte[] head = new byte[1 << 20];
        using (var f = File.OpenRead(OnnxTestPaths.ResNet18!)) f.ReadExactly(head);
        var random = new Random(18);
        for (int i = 0; i < 40; i++)
        {
            int n = random.Next(1, head.Length);
            var e = Assert.Throws<ModelFormatException>(() => OnnxReader.Load(head.AsSpan(0, n), sourceName: "ResNet18.onnx"));
            Assert.Contains("ResNet18.onnx", e.Message);
        }
    }

    [Fact]
    public void Truncated_file_on_disk_fails_cleanly()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fi-trunc-{Guid.NewGuid()}.onnx");
        try
        {
            byte[] bytes = SmallConv().ToByteArray();
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var e = Assert.Throws<ModelFormatException>(() => OnnxReader.Load(path));
            Assert.Equal(path, e.FilePath);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Bad_wire_type_is_rejected()
    {
        Assert.Contains("wire type 7", Fails([.. Tag(1, 7), 0]).Message);
        Assert.Contains("groups", Fails([.. Tag(20, 3), .. Tag(20, 4)]).Message);
        // A known field with the wrong wire type.
        Assert.Contains("ir_version", Fails([.. Tag(1, 5), 1, 2, 3, 4]).Message);
    }

    [Fact]
    public void Varint_longer_than_ten_bytes_is_rejected()
    {
        var e = Fails([.. Tag(1, 0), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        Assert.Contains("varint longer than 10 bytes", e.Message);
        Assert.Contains("at byte 1", e.Message);
    }

    [Fact]
    public void Length_beyond_the_end_is_rejected()
    {
        var e = Fails([.. Tag(7, 2), 0x10, 1, 2, 3]);
        Assert.Contains("runs past the end", e.Message);
    }

    [Fact]
    public void Huge_declared_length_does_not_allocate()
    {
        // raw_data claims 2^40 bytes; the reader must compare with the bytes present before anything else.
        byte[] tensor = [.. VarintField(1, 4), .. VarintField(2, 1), .. Str(8, "huge"), .. Tag(9, 2), .. Varint(1UL << 40), 1, 2, 3, 4];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Fails(ModelWithTensorBytes(tensor));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("runs past the end", e.Message);
        Assert.Contains("graph.initializer[0] 'huge'", e.Message);

        // A shape of 2^40 floats with no values: refused by the tensor size limit before any allocation.
        var big = Fails(ModelWithTensorBytes([.. VarintField(1, 1L << 40), .. VarintField(1, 4), .. VarintField(2, 1), .. Str(8, "big")]));
        Assert.Contains("MaxTensorBytes", big.Message);
    }

    [Fact]
    public void Negative_dimension_names_the_tensor()
    {
        var e = Fails(ModelWithTensorBytes([.. VarintField(1, 2), .. VarintField(1, -1), .. VarintField(2, 1), .. Str(8, "conv1.weight")]));
        Assert.Contains("negative dimension -1", e.Message);
        Assert.Contains("graph.initializer[0] 'conv1.weight'", e.Message);
    }

    [Fact]
    public void Dimensions_whose_product_overflows_are_rejected()
    {
        var e = Fails(ModelWithTensorBytes([.. VarintField(1, 1L << 40), .. VarintField(1, 1L << 40), .. VarintField(2, 1), .. Str(8, "ovf")]));
        Assert.Contains("64-bit", e.Message);
        Assert.Contains("'ovf'", e.Message);
        var dim = Fails(ModelWithTensorBytes([.. VarintField(1, long.MaxValue), .. VarintField(2, 1), .. Str(8, "d")]));
        Assert.Contains("MaxDim", dim.Message);
    }

    [Fact]
    public void Raw_data_length_must_match_the_shape()
    {
        var t = Raw("w", DT.Float, [2, 2], new[] { 1f, 2, 3 });
        var e = Fails(ModelWithTensorBytes(t.ToByteArray()));
        Assert.Contains("raw_data has 12 bytes", e.Message);
        Assert.Contains("needs 16", e.Message);
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void Typed_field_count_must_match_the_shape()
    {
        var t = new Pb.TensorProto { Name = "b", DataType = (int)DT.Float, Dims = { 2, 2 }, FloatData = { 1, 2, 3 } };
        Assert.Contains("float_data has 3 values", Fails(ModelWithTensorBytes(t.ToByteArray())).Message);
        var i = new Pb.TensorProto { Name = "i", DataType = (int)DT.Int64, Dims = { 3 }, Int64Data = { 1, 2, 3, 4 } };
        Assert.Contains("int64_data has 4 values", Fails(ModelWithTensorBytes(i.ToByteArray())).Message);
        var wrong = new Pb.TensorProto { Name = "x", DataType = (int)DT.Int64, Dims = { 1 }, FloatData = { 1 } };
        Assert.Contains("float_data cannot hold a int64 tensor", Fails(ModelWithTensorBytes(wrong.ToByteArray())).Message);
        var none = new Pb.TensorProto { Name = "n", DataType = (int)DT.Float, Dims = { 3 } };
        Assert.Contains("has no values", Fails(ModelWithTensorBytes(none.ToByteArray())).Message);
        var str = new Pb.TensorProto { Name = "s", DataType = (int)DT.String, Dims = { 2 }, StringData = { ByteString.CopyFromUtf8("a") } };
        Assert.Contains("string_data has 1 values", Fails(ModelWithTensorBytes(str.ToByteArray())).Message);
    }

    [Fact]
    public void Unknown_data_type_is_rejected()
    {
        var e = Fails(ModelWithTensorBytes([.. VarintField(1, 1), .. VarintField(2, 99), .. Str(8, "odd")]));
        Assert.Contains("unknown data_type 99", e.Message);
        Assert.Contains("'odd'", e.Message);
        Assert.Contains("UNDEFINED", Fails(ModelWithTensorBytes([.. VarintField(1, 1), .. Str(8, "u")])).Message);
    }

    [Fact]
    public void Unsupported_versions_and_features_are_rejected_clearly()
    {
        var m = SmallConv();
        m.IrVersion = 14;
        Assert.Contains("IR version 14", Fails(m.ToByteArray()).Message);
        m = SmallConv();
        m.OpsetImport[0].Version = 26;
        Assert.Contains("opset 26", Fails(m.ToByteArray()).Message);
        m = SmallConv();
        m.Graph.SparseInitializer.Add(new Pb.SparseTensorProto { Dims = { 2 } });
        Assert.Contains("sparse initializers", Fails(m.ToByteArray()).Message);
        Assert.Contains("no graph", Fails(VarintField(1, 8)).Message);
    }

    [Fact]
    public void Bad_attribute_names_node_and_attribute()
    {
        var m = SmallConv();
        m.Graph.Node[0].Attribute.Add(new Pb.AttributeProto { Name = "body", Type = AT.Graph });
        var e = Fails(m.ToByteArray());
        Assert.Contains("graph.node[0] 'conv' attribute 'body'", e.Message);
        Assert.Contains("has no graph", e.Message);

        m = SmallConv();
        m.Graph.Node[0].Attribute.Add(new Pb.AttributeProto { Name = "weird", Type = (AT)99 });
        Assert.Contains("unknown attribute type 99", Fails(m.ToByteArray()).Message);
    }

    [Fact]
    public void Subgraph_nesting_deeper_than_the_limit_is_rejected()
    {
        Pb.GraphProto Nest(int depth)
        {
            var g = new Pb.GraphProto { Name = $"g{depth}" };
            var n = new Pb.NodeProto { Name = $"if{depth}", OpType = "If", Input = { "c" }, Output = { "y" } };
            if (depth > 0) n.Attribute.Add(new Pb.AttributeProto { Name = "then_branch", Type = AT.Graph, G = Nest(depth - 1) });
            g.Node.Add(n);
            return g;
        }
        var limits = new ReaderLimits { MaxGraphDepth = 4 };
        OnnxReader.Load(Model(Nest(4)).ToByteArray(), limits: limits).Dispose();
        var e = Fails(Model(Nest(5)).ToByteArray(), limits);
        Assert.Contains("MaxGraphDepth", e.Message);
        Assert.Contains("attribute 'then_branch'", e.Message);
        // The default limit stops absurd nesting, well before the stack would.
        Assert.Contains("MaxGraphDepth", Fails(Model(Nest(200)).ToByteArray()).Message);
    }

    [Fact]
    public void Custom_limits_are_enforced()
    {
        byte[] bytes = SmallConv().ToByteArray();
        Assert.Contains("more than 1 nodes", Fails(bytes, new ReaderLimits { MaxNodes = 1 }).Message);
        Assert.Contains("MaxTensorBytes", Fails(bytes, new ReaderLimits { MaxTensorBytes = 100 }).Message);
        Assert.Contains("MaxTotalWeightBytes", Fails(bytes, new ReaderLimits { MaxTotalWeightBytes = 220 }).Message);
        Assert.Contains("MaxRank", Fails(bytes, new ReaderLimits { MaxRank = 3 }).Message);
        Assert.Contains("MaxFileBytes", Fails(bytes, new ReaderLimits { MaxFileBytes = 10 }).Message);
        Assert.Contains("MaxListLength", Fails(bytes, new ReaderLimits { MaxListLength = 3 }).Message);
    }

    // ---- external data ----

    private static byte[] ExternalModel(string location, long? offset = null, long? length = null, long elements = 4)
    {
        var t = new Pb.TensorProto { Name = "ext", DataType = (int)DT.Float, Dims = { elements }, DataLocation = Pb.TensorProto.Types.DataLocation.External };
        t.ExternalData.Add(new Pb.StringStringEntryProto { Key = "location", Value = location });
        if (offset is not null) t.ExternalData.Add(new Pb.StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        if (length is not null) t.ExternalData.Add(new Pb.StringStringEntryProto { Key = "length", Value = length.ToString() });
        var g = new Pb.GraphProto { Name = "e" };
        g.Initializer.Add(t);
        return Model(g).ToByteArray();
    }

    private static void WithFolder(Action<string> test)
    {
        string root = Directory.CreateTempSubdirectory("fi-onnx-x-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "model"));
            Directory.CreateDirectory(Path.Combine(root, "outside"));
            File.WriteAllBytes(Path.Combine(root, "outside", "secret.bin"), new byte[64]);
            File.WriteAllBytes(Path.Combine(root, "model", "w.bin"), new byte[32]);
            test(root);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void External_data_is_read_when_valid() => WithFolder(root =>
    {
        using var g = OnnxReader.Load(ExternalModel("w.bin", 16, 16), Path.Combine(root, "model"));
        Assert.Equal(new float[4], g.Initializers["ext"].AsSpan<float>().ToArray());
    });

    [Fact]
    public void External_path_with_dotdot_is_rejected() => WithFolder(root =>
    {
        var e = Fails(ExternalModel("../outside/secret.bin"), baseDirectory: Path.Combine(root, "model"));
        Assert.Contains("'..'", e.Message);
        Assert.Contains("'ext'", e.Message);
    });

    [Fact]
    public void Absolute_external_path_is_rejected() => WithFolder(root =>
    {
        var e = Fails(ExternalModel(Path.Combine(root, "outside", "secret.bin")), baseDirectory: Path.Combine(root, "model"));
        Assert.Contains("absolute", e.Message);
    });

    [Fact]
    public void Symlink_escaping_the_folder_is_rejected() => WithFolder(root =>
    {
        string model = Path.Combine(root, "model");
        File.CreateSymbolicLink(Path.Combine(model, "file-link.bin"), Path.Combine(root, "outside", "secret.bin"));
        Directory.CreateSymbolicLink(Path.Combine(model, "dir-link"), Path.Combine("..", "outside"));
        Assert.Contains("outside the model's folder", Fails(ExternalModel("file-link.bin"), baseDirectory: model).Message);
        Assert.Contains("outside the model's folder", Fails(ExternalModel("dir-link/secret.bin"), baseDirectory: model).Message);
        // A link that stays inside is fine.
        File.CreateSymbolicLink(Path.Combine(model, "inside-link.bin"), "w.bin");
        OnnxReader.Load(ExternalModel("inside-link.bin"), model).Dispose();
    });

    [Fact]
    public void External_range_beyond_the_file_is_rejected() => WithFolder(root =>
    {
        string model = Path.Combine(root, "model");
        Assert.Contains("runs past the end of 'w.bin'", Fails(ExternalModel("w.bin", 24, 16), baseDirectory: model).Message);
        Assert.Contains("runs past the end", Fails(ExternalModel("w.bin", long.MaxValue, 16), baseDirectory: model).Message);
        Assert.Contains("does not match", Fails(ExternalModel("w.bin", 0, 12), baseDirectory: model).Message);
        Assert.Contains("does not exist", Fails(ExternalModel("nope.bin"), baseDirectory: model).Message);
        Assert.Contains("not a non-negative integer", Fails(ExternalModel("w.bin", -1, 16), baseDirectory: model).Message);
    });
}
