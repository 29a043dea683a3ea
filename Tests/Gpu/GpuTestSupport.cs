using FastInfer.Gpu;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;
using Xunit;

namespace FastInfer.Tests.Gpu;

/// <summary>GPU tests share one accelerator; they run one at a time (ILGPU's CPU accelerator is itself multi-threaded).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GpuCollection
{
    public const string Name = "Gpu";
}

/// <summary>
/// Which accelerator the GPU tests use: ILGPU's CPU accelerator everywhere, or the real CUDA device when
/// FASTINFER_GPU_TEST_ACCELERATOR=cuda (tools/gpu-check.sh sets it on a GPU machine).
/// </summary>
internal static class GpuTest
{
    public static GpuOptions Gpu { get; } =
        string.Equals(Environment.GetEnvironmentVariable("FASTINFER_GPU_TEST_ACCELERATOR"), "cuda", StringComparison.OrdinalIgnoreCase)
            ? new GpuOptions() : GpuOptions.CpuAccelerator;

    public static GpuAccelerator Accelerator =>
        GpuAccelerator.TryOpen(Gpu.Accelerator, Gpu.DeviceIndex, out string lookedFor) ?? throw new InvalidOperationException(lookedFor);

    public static SessionOptions Options(int threads = 1) => new SessionOptions { IntraOpThreads = threads }.UseGpu(Device.Gpu, Gpu);
}
