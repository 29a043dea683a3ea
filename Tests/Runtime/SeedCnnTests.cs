using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Runtime;

/// <summary>The seed's Keras-style CNN, built as ONNX, against ONNX Runtime (fp32: rtol 1e-3, atol 1e-5).</summary>
public class SeedCnnTests
{
    [Theory]
    [InlineData(28, 28, 1, 1)]
    [InlineData(28, 28, 1, 2)]
    [InlineData(32, 32, 3, 1)]
    [InlineData(32, 32, 3, 2)]
    public void MatchesOnnxRuntime(int h, int w, int c, int threads)
    {
        byte[] model = SeedCnn.Build(h, w, c, seed: h + c);
        var input = TensorAssert.RandomFloats(c * h * w, seed: 7);
        var expected = OrtOracle.Run(model, new[] { ("input", (Array)input, new[] { 1, c, h, w }) })["probabilities"];

        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), new SessionOptions { IntraOpThreads = threads });
        using var x = Tensor.FromArray(input, 1, c, h, w);
        var outputs = session.Run(new NamedTensor("input", x));
        using var y = outputs[0].Tensor;
        Assert.Equal("probabilities", outputs[0].Name);
        Assert.Equal(new[] { 1, 10 }, y.Shape.ToArray());
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-5, "probabilities");
    }

    [Fact]
    public void GraphPassesFuseConvAndReluAndMatMulAdd()
    {
        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(SeedCnn.Build(28, 28, 1)));
        var ops = session.Graph.Nodes.Select(n => n.OpType).ToArray();
        Assert.Contains("FusedConv", ops);
        Assert.Contains("MatMulAdd", ops);
        Assert.DoesNotContain("Conv", ops);
    }
}
