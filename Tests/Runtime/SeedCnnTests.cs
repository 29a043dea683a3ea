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

    /// <summary>
    /// The Conv → Relu → MaxPool(2×2) the graph passes fuse, on each path that runs it: inside the direct AVX-512
    /// kernel, and as convolution then pooling (a lower ISA tier; an image too narrow for the direct kernel).
    /// </summary>
    [Theory]
    [InlineData(32, 32, 3, "Avx512")]
    [InlineData(31, 29, 1, "Avx512")]
    [InlineData(12, 10, 3, "Avx512")]
    [InlineData(32, 32, 3, "Avx2Fma")]
    [InlineData(31, 29, 3, "Scalar")]
    public void FusedPoolMatchesOnnxRuntimeOnEveryPath(int h, int w, int c, string isa)
    {
        var level = Enum.Parse<FastInfer.Kernels.Platform.IsaLevel>(isa);
        if (!FastInfer.Kernels.Platform.KernelIsa.IsSupported(level)) return;
        byte[] model = SeedCnn.Build(h, w, c, seed: h + w + c);
        var input = TensorAssert.RandomFloats(c * h * w, seed: 8);
        var expected = OrtOracle.Run(model, new[] { ("input", (Array)input, new[] { 1, c, h, w }) })["probabilities"];
        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), new SessionOptions { IntraOpThreads = 2, Isa = level });
        Assert.DoesNotContain("MaxPool", session.Graph.Nodes.Select(n => n.OpType));
        using var x = Tensor.FromArray(input, 1, c, h, w);
        var outputs = session.Run(new NamedTensor("input", x));
        using var y = outputs[0].Tensor;
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-5, $"probabilities ({isa}, {h}x{w}x{c})");
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
