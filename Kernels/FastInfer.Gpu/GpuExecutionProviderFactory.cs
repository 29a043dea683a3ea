using FastInfer.Gpu.Execution;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;

namespace FastInfer.Gpu;

/// <summary>Creates <see cref="GpuExecutionProvider"/>s on the accelerator chosen by <see cref="GpuOptions"/>.</summary>
public sealed class GpuExecutionProviderFactory(GpuOptions options) : IExecutionProviderFactory
{
    public GpuOptions Options { get; } = options;

    public string Name => Options.Accelerator == GpuAcceleratorKind.Cuda ? "ilgpu-cuda" : "ilgpu-cpu";

    public IExecutionProvider? TryCreate(SessionOptions options, out string lookedFor)
    {
        var gpu = GpuAccelerator.TryOpen(Options.Accelerator, Options.DeviceIndex, out lookedFor);
        return gpu is null ? null : new GpuExecutionProvider(gpu);
    }

    /// <summary>Registers the CUDA provider process-wide, so <c>Device.Gpu</c>/<c>Device.Auto</c> find it without <c>UseGpu</c>.</summary>
    public static void Register(GpuOptions? options = null) =>
        ExecutionProviders.Register(new GpuExecutionProviderFactory(options ?? new GpuOptions()));
}

/// <summary>The GPU assembly's entry point on <see cref="SessionOptions"/>.</summary>
public static class GpuSessionOptionsExtensions
{
    /// <summary>
    /// Runs the session through the ILGPU provider. <paramref name="device"/>: <see cref="Device.Gpu"/> fails at
    /// session creation when no CUDA device is found; <see cref="Device.Auto"/> falls back to the CPU.
    /// <c>UseGpu(gpu: GpuOptions.CpuAccelerator)</c> runs the GPU kernels on ILGPU's CPU accelerator (tests).
    /// </summary>
    public static SessionOptions UseGpu(this SessionOptions options, Device device = Device.Gpu, GpuOptions? gpu = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Device = device;
        options.ExecutionProvider = new GpuExecutionProviderFactory(gpu ?? new GpuOptions());
        return options;
    }
}
