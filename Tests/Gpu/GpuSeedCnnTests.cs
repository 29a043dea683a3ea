using FastInfer.Formats.Onnx;
using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Gpu;

/// <summary>The seed CNN end to end through the GPU provider, against the CPU backend.</summary>
[Collection(GpuCollection.Name)]
public sealed class GpuSeedCnnTests
{
    [Theory]
    [InlineData(12, 10, 1, 1)]
    [InlineData(9, 13, 3, 2)]
    public void SeedCnnMatchesCpuBackend(int h, int w, int c, int batchRuns)
    {
        byte[] model = SeedCnn.Build(h, w, c, seed: h * 7 + c);
        using var cpu = InferenceSession.Create(OnnxReader.Load(model), new SessionOptions { IntraOpThreads = 1 });
        using var gpu = InferenceSession.Create(OnnxReader.Load(model), GpuTest.Options());
        Assert.NotNull(gpu.ExecutionProviderName);
        for (int run = 0; run < batchRuns; run++)
        {
            var data = TensorAssert.RandomFloats(c * h * w, seed: 100 + run);
            using var input = Tensor.FromArray(data, 1, c, h, w);
            var expected = cpu.Run(new NamedTensor("input", input));
            var actual = gpu.Run(new NamedTensor("input", input));
            try
            {
                TensorAssert.Close(expected[0].Tensor.AsSpan<float>(), actual[0].Tensor.AsSpan<float>(), 1e-3, 1e-4, $"seed CNN {h}x{w}x{c} run {run}");
            }
            finally
            {
                foreach (var t in expected) t.Tensor.Dispose();
                foreach (var t in actual) t.Tensor.Dispose();
            }
        }
    }

    [Fact]
    public void SeedCnnRunsEveryStepOnTheDevice()
    {
        using var gpu = InferenceSession.Create(OnnxReader.Load(SeedCnn.Build(10, 10, 1)), GpuTest.Options());
        var summary = gpu.DescribeDevicePlan();
        Assert.NotNull(summary);
        Assert.Equal(0, summary!.CpuSteps);
        Assert.True(summary.DeviceSteps > 0);
        Assert.Equal(1, summary.HostToDeviceCopies);   // the input
        Assert.Equal(1, summary.DeviceToHostCopies);   // the probabilities
    }
}
