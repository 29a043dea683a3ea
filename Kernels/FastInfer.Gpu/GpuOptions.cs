namespace FastInfer.Gpu;

/// <summary>How the GPU provider picks its accelerator.</summary>
public sealed record GpuOptions
{
    /// <summary>CUDA (the default) or ILGPU's CPU accelerator, which runs the same kernels for tests on machines without a GPU.</summary>
    public GpuAcceleratorKind Accelerator { get; init; } = GpuAcceleratorKind.Cuda;

    /// <summary>Which CUDA device, when there are several.</summary>
    public int DeviceIndex { get; init; }

    /// <summary>For tests: run the GPU kernels on ILGPU's CPU accelerator.</summary>
    public static GpuOptions CpuAccelerator { get; } = new() { Accelerator = GpuAcceleratorKind.IlgpuCpu };
}
