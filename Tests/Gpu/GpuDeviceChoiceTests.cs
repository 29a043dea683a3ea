using FastInfer.Formats.Onnx;
using FastInfer.Gpu;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;
using FastInfer.Tests.Support;
using Xunit;
using static FastInfer.Tests.Gpu.GpuModelRunner;

namespace FastInfer.Tests.Gpu;

/// <summary>Device selection (Cpu, Gpu, Auto) and the CPU fallback for nodes without a GPU kernel.</summary>
[Collection(GpuCollection.Name)]
public sealed class GpuDeviceChoiceTests
{
    private static bool CudaPresent => GpuAccelerator.TryOpen(GpuAcceleratorKind.Cuda, 0, out _) is not null;

    [Fact]
    public void GpuWithoutCudaFailsNamingWhatWasLookedFor()
    {
        if (CudaPresent) return; // on a GPU machine this is the success path, covered by every other test
        var options = new SessionOptions().UseGpu(Device.Gpu);
        var e = Assert.Throws<DeviceUnavailableException>(() => InferenceSession.Create(OnnxReader.Load(SeedCnn.Build(6, 6, 1)), options));
        Assert.Contains("CUDA", e.Message);
        Assert.Contains("Device.Gpu", e.Message);
    }

    [Fact]
    public void AutoWithoutCudaRunsOnTheCpu()
    {
        if (CudaPresent) return;
        using var session = InferenceSession.Create(OnnxReader.Load(SeedCnn.Build(6, 6, 1)), new SessionOptions().UseGpu(Device.Auto));
        Assert.Null(session.ExecutionProviderName);
        Assert.Equal("CPU", session.DeviceName);
        Assert.Null(session.DescribeDevicePlan());
    }

    [Fact]
    public void GpuWithNoProviderRegisteredSaysHowToGetOne()
    {
        var options = new SessionOptions { Device = Device.Gpu };
        if (ExecutionProviders.Registered.Count > 0) return;
        var e = Assert.Throws<DeviceUnavailableException>(() => InferenceSession.Create(OnnxReader.Load(SeedCnn.Build(6, 6, 1)), options));
        Assert.Contains("UseGpu", e.Message);
    }

    [Fact]
    public void CpuIsTheDefaultAndLoadsNoProvider()
    {
        using var session = InferenceSession.Create(OnnxReader.Load(SeedCnn.Build(6, 6, 1)));
        Assert.Equal(Device.Cpu, session.Options.Device);
        Assert.Null(session.ExecutionProviderName);
    }

    [Fact]
    public void NodeWithoutGpuKernelRunsOnCpuWithCopiesAtPartitionEdges()
    {
        var a = Random("a", 30, 2, 3, 5);
        var model = Model(13, new[] { a }, Array.Empty<(string, int[], float[])>(), new[] { "y" },
            Node("Sigmoid", new[] { "a" }, "s"), Node("Floor", new[] { "s" }, "f"), Node("Relu", new[] { "f" }, "r"),
            Node("Add", new[] { "r", "a" }, "y"));
        var summary = CompareWithCpu(model, new[] { a }, "GPU → CPU → GPU", allOnDevice: false);
        Assert.Equal(1, summary.CpuSteps);
        Assert.Equal(3, summary.DeviceSteps);
        var real = summary.Partitions.Where(p => p.Steps.Length > 0).ToArray();
        Assert.Equal(new[] { true, false, true }, real.Select(p => p.OnDevice).ToArray());
        Assert.Contains(real[1].CopiesIn, c => c.StartsWith("s ", StringComparison.Ordinal));   // device → host before Floor
        Assert.Contains(real[2].CopiesIn, c => c.StartsWith("f ", StringComparison.Ordinal));   // host → device after it
        Assert.Equal(2, summary.HostToDeviceCopies);   // the input, then Floor's result
        Assert.Equal(2, summary.DeviceToHostCopies);   // Sigmoid's result, then the output
        Assert.Contains("partition", summary.ToString());
    }

    [Fact]
    public void RepeatedRunsAndTwoShapesGiveTheSameAnswersAsTheCpu()
    {
        byte[] model = SeedCnn.Build(8, 8, 2);
        using var cpu = InferenceSession.Create(OnnxReader.Load(model), new SessionOptions { IntraOpThreads = 1 });
        using var gpu = InferenceSession.Create(OnnxReader.Load(model), GpuTest.Options());
        for (int run = 0; run < 3; run++)
        {
            using var input = Tensor.FromArray(TensorAssert.RandomFloats(2 * 64, 40 + run), 1, 2, 8, 8);
            using var expected = Tensor.Allocate(FastInfer.Ir.DataType.Float, 1, 10);
            using var actual = Tensor.Allocate(FastInfer.Ir.DataType.Float, 1, 10);
            cpu.Run(new[] { new NamedTensor("input", input) }, new[] { new NamedTensor("probabilities", expected) });
            gpu.Run(new[] { new NamedTensor("input", input) }, new[] { new NamedTensor("probabilities", actual) });
            TensorAssert.Close(expected.AsSpan<float>(), actual.AsSpan<float>(), 1e-3, 1e-4, $"run {run}");
        }
    }
}
