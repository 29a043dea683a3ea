using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Runtime;

/// <summary>The design's first contract: Run allocates no managed memory once a shape has been planned.</summary>
public class ZeroAllocationTests
{
    private static long AllocatedByRuns(InferenceSession session, NamedTensor[] inputs, NamedTensor[] outputs, int runs = 5)
    {
        session.Run(inputs, outputs); // plans this shape
        session.Run(inputs, outputs); // first reuse: any lazily created per-frame state
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++) session.Run(inputs, outputs);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Theory]
    [InlineData(28, 28, 1, 1)]
    [InlineData(32, 32, 3, 2)]
    public void SeedCnnRunAllocatesNothing(int h, int w, int c, int threads)
    {
        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(SeedCnn.Build(h, w, c)), new SessionOptions { IntraOpThreads = threads });
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(c * h * w, 1), 1, c, h, w);
        using var y = Tensor.Allocate(FastInfer.Ir.DataType.Float, 1, 10);
        Assert.Equal(0, AllocatedByRuns(session, new[] { new NamedTensor("input", x) }, new[] { new NamedTensor("probabilities", y) }));
    }

    [ResNet18Fact]
    public void ResNet18RunAllocatesNothing()
    {
        foreach (int threads in new[] { 1, 2 })
        {
            using var session = InferenceSession.Load(TestModels.ResNet18!, new SessionOptions { IntraOpThreads = threads });
            using var x = Tensor.FromArray(TestModels.ImageLike(3, 224, 224, 1), 1, 3, 224, 224);
            using var y = Tensor.Allocate(FastInfer.Ir.DataType.Float, 1, 512, 1, 1);
            Assert.Equal(0, AllocatedByRuns(session, new[] { new NamedTensor("Input247", x) }, new[] { new NamedTensor("Pooling395_Output_0", y) }, runs: 2));
        }
    }
}
