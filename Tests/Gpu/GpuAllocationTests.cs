using FastInfer.Formats.Onnx;
using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace FastInfer.Tests.Gpu;

/// <summary>
/// Managed allocation of a GPU-provider Run once the shape is planned. FastInfer's own per-Run path (frame, device
/// ops, copies) allocates nothing; what ILGPU's launchers allocate depends on the accelerator, so the figure is
/// reported, and asserted to be zero only on CUDA (where gpu-check runs this test).
/// </summary>
[Collection(GpuCollection.Name)]
public sealed class GpuAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public void AllocationPerRunIsReported()
    {
        using var session = InferenceSession.Create(OnnxReader.Load(SeedCnn.Build(8, 8, 1)), GpuTest.Options());
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(64, 1), 1, 1, 8, 8);
        using var y = Tensor.Allocate(FastInfer.Ir.DataType.Float, 1, 10);
        var inputs = new[] { new NamedTensor("input", x) };
        var outputs = new[] { new NamedTensor("probabilities", y) };
        session.Run(inputs, outputs);
        session.Run(inputs, outputs);
        const int runs = 3;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++) session.Run(inputs, outputs);
        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / runs;
        output.WriteLine($"{session.DeviceName}: {perRun} bytes allocated per Run");
        if (GpuTest.Gpu.Accelerator == FastInfer.Gpu.GpuAcceleratorKind.Cuda) Assert.Equal(0, perRun);
    }
}
