using FastInfer.Formats;
using FastInfer.Formats.Fim;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Fim;

/// <summary>.fim files written from ONNX models run like the source model (oracle: ONNX Runtime on the ONNX bytes), and
/// every part of the IR survives a write and a read.</summary>
public class FimRoundTripTests
{
    [Theory]
    [InlineData(WeightPlacement.Pinned, 1)]
    [InlineData(WeightPlacement.Mapped, 2)]
    public void SeedCnnFromFimMatchesOnnxRuntime(WeightPlacement placement, int threads)
    {
        using var files = new FimTestFiles();
        byte[] onnx = SeedCnn.Build(20, 20, 3, seed: 5);
        string fim = files.PathOf("seed.fim");
        using (var g = OnnxReader.Load(onnx)) FimWriter.Save(g, fim);

        var input = TensorAssert.RandomFloats(3 * 20 * 20, seed: 11);
        var expected = OrtOracle.Run(onnx, new[] { ("input", (Array)input, new[] { 1, 3, 20, 20 }) })["probabilities"];
        var options = new SessionOptions { IntraOpThreads = threads, WeightPlacement = placement };
        using var session = InferenceSession.Load(fim, options);
        Assert.Equal("fim", session.Graph.SourceFormat);
        using var x = Tensor.FromArray(input, 1, 3, 20, 20);
        var outputs = session.Run(new NamedTensor("input", x));
        using var y = outputs[0].Tensor;
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-4, "probabilities");
    }

    [Theory]
    [InlineData(WeightPlacement.Pinned)]
    [InlineData(WeightPlacement.Mapped)]
    public void EveryPartOfTheGraphSurvives(WeightPlacement placement)
    {
        using var files = new FimTestFiles();
        string path = files.PathOf("all.fim");
        using (var g = BuildRichGraph()) FimWriter.Save(g, path);
        using var back = FimReader.Load(path, ReaderLimits.Default with { WeightPlacement = placement });
        using var original = BuildRichGraph();
        AssertSameGraph(original, back);
        Assert.Equal(original.IrVersion, back.IrVersion);
        Assert.Equal(original.ProducerName, back.ProducerName);
        Assert.Equal(original.ProducerVersion, back.ProducerVersion);
        Assert.Equal(original.OpsetImports.OrderBy(p => p.Key), back.OpsetImports.OrderBy(p => p.Key));
        Assert.Equal(original.Metadata.OrderBy(p => p.Key), back.Metadata.OrderBy(p => p.Key));
        // Tensors sit at 4096-byte boundaries in the file; mapped, their addresses keep that alignment.
        if (placement == WeightPlacement.Mapped)
            Assert.Equal(0, back.Initializers["w"].Pointer % 4096);
    }

    [Fact]
    public void ModelReaderRecognisesFimByContent()
    {
        using var files = new FimTestFiles();
        string path = files.PathOf("model.bin");
        using (var g = BuildRichGraph()) FimWriter.Save(g, path);
        using var back = ModelReader.Load(path);
        Assert.Equal("fim", back.SourceFormat);
    }

    [Fact]
    public void ConverterWritesFimAndOnnxBack()
    {
        using var files = new FimTestFiles();
        byte[] onnx = SeedCnn.Build(12, 12, 1, seed: 3);
        string src = files.PathOf("src.onnx"), fim = files.PathOf("m.fim"), again = files.PathOf("back.onnx");
        File.WriteAllBytes(src, onnx);
        long lastProgress = -1;
        ModelConverter.Convert(src, fim, progress: (done, total) => lastProgress = done == total ? total : lastProgress);
        ModelConverter.Convert(fim, again);
        Assert.True(lastProgress > 0);
        var input = TensorAssert.RandomFloats(144, seed: 2);
        var expected = OrtOracle.Run(onnx, new[] { ("input", (Array)input, new[] { 1, 1, 12, 12 }) })["probabilities"];
        var roundTripped = OrtOracle.Run(again, new[] { ("input", (Array)input, new[] { 1, 1, 12, 12 }) })["probabilities"];
        TensorAssert.Close(expected.Data, roundTripped.Data, 1e-6, 0, "ONNX -> .fim -> ONNX");
    }

    internal static ModelGraph BuildRichGraph()
    {
        var g = new ModelGraph { Name = "main", IrVersion = 9, ProducerName = "tests", ProducerVersion = "1.2" };
        g.OpsetImports[""] = 17;
        g.OpsetImports["com.example"] = 2;
        g.Metadata["author"] = "ünïcode ✓";
        g.Metadata["empty"] = "";
        var w = TensorData.Create<float>(g, "w", DataType.Float, new long[] { 3, 5 }, TensorAssert.RandomFloats(15, 1));
        g.Initializers["w"] = w;
        g.Initializers["ids"] = TensorData.Create<long>(g, "ids", DataType.Int64, new long[] { 4 }, new long[] { 1, -2, long.MaxValue, 0 });
        g.Initializers["empty"] = TensorData.Create<float>(g, "empty", DataType.Float, new long[] { 0, 7 }, ReadOnlySpan<float>.Empty);
        g.Initializers["scalar"] = TensorData.Create<double>(g, "scalar", DataType.Double, Array.Empty<long>(), new[] { Math.PI });
        g.Initializers["names"] = new TensorData("names", DataType.String, new long[] { 2 }, 0, 0) { Strings = new[] { "a", "βγ" } };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { Dimension.Symbolic("batch"), Dimension.Fixed(3), Dimension.Symbolic(null) }));
        g.Inputs.Add(new ValueInfo("unranked", DataType.Int32, null));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { Dimension.Fixed(1), Dimension.Fixed(5) }));
        g.ValueInfos.Add(new ValueInfo("mid", DataType.Undefined, Array.Empty<Dimension>()));

        var body = new ModelGraph { Name = "body" };
        g.Own(body);
        body.Initializers["one"] = TensorData.Create<float>(g, "one", DataType.Float, new long[] { 1 }, new[] { 1f });
        body.Inputs.Add(new ValueInfo("b_in", DataType.Float, new[] { Dimension.Fixed(5) }));
        body.Outputs.Add(new ValueInfo("b_out", DataType.Float, new[] { Dimension.Fixed(5) }));
        body.Nodes.Add(new Node { OpType = "Add", Inputs = { "b_in", "one" }, Outputs = { "b_out" } });

        var attrTensor = TensorData.Create<int>(g, "attr_t", DataType.Int32, new long[] { 2 }, new[] { 7, 8 });
        var node = new Node { Name = "n0", OpType = "Custom", Domain = "com.example", Inputs = { "x", "", "w" }, Outputs = { "y", "extra" } };
        node.SetAttribute(NodeAttribute.Of("f", 2.5f));
        node.SetAttribute(NodeAttribute.Of("i", -42L));
        node.SetAttribute(NodeAttribute.Of("s", "text"));
        node.SetAttribute(NodeAttribute.Of("fs", new[] { 1f, float.NaN, -0f }));
        node.SetAttribute(NodeAttribute.Of("is", new[] { 1L, long.MinValue }));
        node.SetAttribute(NodeAttribute.Of("ss", new[] { "p", "" }));
        node.SetAttribute(NodeAttribute.Of("t", attrTensor));
        node.SetAttribute(new NodeAttribute { Name = "ts", Kind = AttributeKind.Tensors, Tensors = new[] { attrTensor, w } });
        node.SetAttribute(new NodeAttribute { Name = "g", Kind = AttributeKind.Graph, Graph = body });
        node.SetAttribute(new NodeAttribute { Name = "gs", Kind = AttributeKind.Graphs, Graphs = new[] { body } });
        g.Nodes.Add(node);
        g.Nodes.Add(new Node { OpType = "Relu", Inputs = { "y" }, Outputs = { "z" } });
        return g;
    }

    private static void AssertSameGraph(ModelGraph a, ModelGraph b)
    {
        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.Inputs, b.Inputs, ValueInfoEquals);
        Assert.Equal(a.Outputs, b.Outputs, ValueInfoEquals);
        Assert.Equal(a.ValueInfos, b.ValueInfos, ValueInfoEquals);
        Assert.Equal(a.Initializers.Keys.Order(), b.Initializers.Keys.Order());
        foreach (var (name, t) in a.Initializers) AssertSameTensor(t, b.Initializers[name]);
        Assert.Equal(a.Nodes.Count, b.Nodes.Count);
        for (int i = 0; i < a.Nodes.Count; i++)
        {
            var (x, y) = (a.Nodes[i], b.Nodes[i]);
            Assert.Equal((x.Name, x.OpType, x.Domain), (y.Name, y.OpType, y.Domain));
            Assert.Equal(x.Inputs, y.Inputs);
            Assert.Equal(x.Outputs, y.Outputs);
            Assert.Equal(x.Attributes.Keys.Order(), y.Attributes.Keys.Order());
            foreach (var (name, p) in x.Attributes)
            {
                var q = y.Attributes[name];
                Assert.Equal(p.Kind, q.Kind);
                Assert.Equal(p.Int, q.Int);
                Assert.Equal(BitConverter.SingleToInt32Bits(p.Float), BitConverter.SingleToInt32Bits(q.Float));
                Assert.Equal(p.String, q.String);
                Assert.Equal(p.Ints, q.Ints);
                Assert.Equal(p.Floats?.Select(BitConverter.SingleToInt32Bits), q.Floats?.Select(BitConverter.SingleToInt32Bits));
                Assert.Equal(p.Strings, q.Strings);
                if (p.Tensor is not null) AssertSameTensor(p.Tensor, q.Tensor!);
                if (p.Tensors is not null) for (int k = 0; k < p.Tensors.Length; k++) AssertSameTensor(p.Tensors[k], q.Tensors![k]);
                if (p.Graph is not null) AssertSameGraph(p.Graph, q.Graph!);
                if (p.Graphs is not null) for (int k = 0; k < p.Graphs.Length; k++) AssertSameGraph(p.Graphs[k], q.Graphs![k]);
            }
        }
    }

    private static bool ValueInfoEquals(ValueInfo a, ValueInfo b) =>
        a.Name == b.Name && a.ElementType == b.ElementType &&
        (a.Shape is null ? b.Shape is null : b.Shape is not null && a.Shape.SequenceEqual(b.Shape));

    private static unsafe void AssertSameTensor(TensorData a, TensorData b)
    {
        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.ElementType, b.ElementType);
        Assert.Equal(a.Dims, b.Dims);
        Assert.Equal(a.Strings, b.Strings);
        Assert.Equal(a.ByteLength, b.ByteLength);
        Assert.True(new ReadOnlySpan<byte>((void*)a.Pointer, (int)a.ByteLength).SequenceEqual(new ReadOnlySpan<byte>((void*)b.Pointer, (int)b.ByteLength)), $"bytes of {a.Name}");
    }
}
