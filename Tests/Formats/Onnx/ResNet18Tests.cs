using System.Runtime.InteropServices;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using Xunit;
using Pb = global::Onnx;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary>A real model: ResNet18 (opset 8, IR 3, initializers also listed as graph inputs).</summary>
public class ResNet18Tests(Xunit.Abstractions.ITestOutputHelper output)
{
    [ResNet18Fact]
    public void Loads_ResNet18_with_its_weights()
    {
        string path = OnnxTestPaths.ResNet18!;
        using var graph = OnnxReader.Load(path);
        var input = Assert.Single(graph.Inputs);
        Assert.Equal("Input247", input.Name);
        Assert.Equal(DataType.Float, input.ElementType);
        Assert.Equal([1L, 3, 224, 224], input.Shape!.Select(d => d.Value));
        Assert.Equal("Pooling395_Output_0", Assert.Single(graph.Outputs).Name);
        Assert.Equal(3, graph.IrVersion);
        Assert.Equal(8, graph.Opset);
        var google = Pb.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        // torchvision's ResNet18 has 11.7M parameters; this CNTK export's initializers hold 15.9M elements (63.6 MB, e.g.
        // five 512x512x3x3 convolutions). Count against Google's parse rather than a remembered number.
        long expectedCount = google.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        foreach (var t in graph.Initializers.Values.OrderByDescending(t => t.ElementCount).Take(5)) output.WriteLine(t.ToString());
        Assert.Equal(expectedCount, graph.ParameterCount);
        Assert.InRange(graph.ParameterCount, 11_600_000, 16_000_000);
        Assert.Equal(graph.ParameterCount * 4, graph.WeightBytes);

        Assert.Equal(google.Graph.Node.Count, graph.Nodes.Count);
        Assert.Equal(google.Graph.Initializer.Count, graph.Initializers.Count);
        foreach (var expected in google.Graph.Initializer.Where((_, i) => i % 10 == 0 || i == google.Graph.Initializer.Count - 1))
        {
            var t = graph.Initializers[expected.Name];
            Assert.Equal(expected.Dims, t.Dims);
            byte[] bytes = expected.RawData.Length > 0 ? expected.RawData.ToByteArray() : MemoryMarshal.AsBytes(expected.FloatData.ToArray().AsSpan()).ToArray();
            Assert.True(bytes.AsSpan().SequenceEqual(t.AsSpan<byte>()), $"initializer '{expected.Name}' differs");
            Assert.Equal(0, t.Pointer % 64);
        }
    }

    [ResNet18Fact]
    public void ResNet18_survives_a_write_and_read_round_trip()
    {
        using var a = OnnxReader.Load(OnnxTestPaths.ResNet18!);
        string dir = Directory.CreateTempSubdirectory("fi-resnet-").FullName;
        try
        {
            string path = Path.Combine(dir, "resnet.onnx");
            OnnxWriter.Save(a, path, new OnnxWriteOptions { ExternalDataThreshold = 1 << 20 });
            Assert.True(File.Exists(path + ".data"));
            using var b = OnnxReader.Load(path);
            OnnxGraphAssert.Equal(a, b);
        }
        finally { Directory.Delete(dir, true); }
    }
}
