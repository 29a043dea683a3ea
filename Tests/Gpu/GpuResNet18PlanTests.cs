using FastInfer.Formats.Onnx;
using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Gpu;

/// <summary>
/// ResNet-18 planned for the GPU provider (not run: on ILGPU's CPU accelerator that would take minutes): every
/// step after the graph passes must have a device kernel, so a run copies the image in and the features out, once.
/// </summary>
[Collection(GpuCollection.Name)]
public sealed class GpuResNet18PlanTests
{
    [Fact]
    public void EveryResNet18StepRunsOnTheDevice()
    {
        if (TestModels.ResNet18 is not { } path) return; // the model package is not restored here
        using var session = InferenceSession.Load(path, GpuTest.Options());
        var summary = session.DescribeDevicePlan();
        Assert.NotNull(summary);
        Assert.True(summary!.CpuSteps == 0, summary.ToString());
        Assert.Equal(1, summary.HostToDeviceCopies);
        Assert.Equal(1, summary.DeviceToHostCopies);
        Assert.Contains(summary.Partitions.SelectMany(p => p.Nodes), n => n.StartsWith("FusedConv", StringComparison.Ordinal));
        Assert.True(summary.DeviceWeightBytes > 40_000_000, $"weights on the device: {summary.DeviceWeightBytes} B");
    }
}
