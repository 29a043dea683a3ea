using FastInfer.Kernels.Platform;
using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Runtime;

/// <summary>The ImageNet-trained ResNet-18 from NuGet, end to end, against ONNX Runtime (rtol 1e-3, atol 1e-4).</summary>
public class ResNet18SessionTests
{
    private static float[] Input(int seed) =>
        // Pixel-scale values with the per-channel mean removed, as the featurizer's preprocessing feeds it.
        TestModels.ImageLike(3, 224, 224, seed).Select(v => v * 60f).ToArray();

    [ResNet18Fact]
    public void MatchesOnnxRuntimeAtOneAndTwoThreads()
    {
        string path = TestModels.ResNet18!;
        var input = Input(3);
        var expected = OrtOracle.Run(path, new[] { ("Input247", (Array)input, new[] { 1, 3, 224, 224 }) })["Pooling395_Output_0"];
        foreach (int threads in new[] { 1, 2 })
        {
            using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads });
            using var x = Tensor.FromArray(input, 1, 3, 224, 224);
            var outputs = session.Run(new NamedTensor("Input247", x));
            using var y = outputs[0].Tensor;
            Assert.Equal(new[] { 1, 512, 1, 1 }, y.Shape.ToArray());
            TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-4, $"ResNet-18 at {threads} thread(s)");
        }
    }

    [ResNet18Fact]
    public void MatchesOnnxRuntimeUnderEveryIsa()
    {
        string path = TestModels.ResNet18!;
        var input = Input(11);
        var expected = OrtOracle.Run(path, new[] { ("Input247", (Array)input, new[] { 1, 3, 224, 224 }) })["Pooling395_Output_0"];
        foreach (var isa in new[] { IsaLevel.Avx2Fma, IsaLevel.Vector128, IsaLevel.Scalar })
        {
            if (!KernelIsa.IsSupported(isa)) continue;
            using (KernelIsa.Override(isa))
            {
                using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = 1 });
                using var x = Tensor.FromArray(input, 1, 3, 224, 224);
                var outputs = session.Run(new NamedTensor("Input247", x));
                using var y = outputs[0].Tensor;
                TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-4, $"ResNet-18 under {isa}");
            }
        }
    }

    [ResNet18Fact]
    public void FoldsBatchNormAndFusesResiduals()
    {
        using var session = InferenceSession.Load(TestModels.ResNet18!);
        var ops = session.Graph.Nodes.Select(n => n.OpType).ToList();
        Assert.DoesNotContain("BatchNormalization", ops);
        Assert.DoesNotContain("Add", ops);
        Assert.DoesNotContain("Relu", ops);
        Assert.True(session.DescribePlan().ArenaBytes > 0);
    }
}
