using System.CommandLine;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;
#if FASTINFER_GPU
using FastInfer.Gpu;
#endif

namespace FastInfer.Cli.Commands;

/// <summary>Where a command's session runs: <c>--device cpu|gpu|auto</c>, plus which accelerator backs "gpu".</summary>
/// <param name="Device">Cpu (the default), Gpu (CUDA or exit 2), Auto (CUDA when found, else the CPU).</param>
/// <param name="IlgpuCpu">Run the GPU kernels on ILGPU's CPU accelerator instead of CUDA (tests; hidden option).</param>
internal sealed record DeviceChoice(Device Device, bool IlgpuCpu)
{
    public static DeviceChoice Cpu { get; } = new(Device.Cpu, false);
}

/// <summary>The <c>--device</c> and hidden <c>--gpu-accelerator</c> options and how they reach <see cref="SessionOptions"/>.</summary>
internal static class DeviceOptions
{
    public static Option<string> Device()
    {
        var o = new Option<string>("--device")
        {
            Description = "cpu (default), gpu (CUDA through ILGPU; exit 2 when none is found) or auto (the GPU when found, else the CPU)",
            DefaultValueFactory = _ => "cpu",
        };
        o.AcceptOnlyFromAmong("cpu", "gpu", "auto");
        return o;
    }

    /// <summary>Hidden: <c>--gpu-accelerator cpu</c> runs the GPU kernels on ILGPU's CPU accelerator (tests, machines without a GPU).</summary>
    public static Option<string> Accelerator()
    {
        var o = new Option<string>("--gpu-accelerator")
        {
            Description = "cuda (default) or cpu: ILGPU's CPU accelerator, the GPU kernels simulated on the CPU (for tests)",
            DefaultValueFactory = _ => "cuda",
            Hidden = true,
        };
        o.AcceptOnlyFromAmong("cuda", "cpu");
        return o;
    }

    public static DeviceChoice Parse(ParseResult p, Option<string> device, Option<string> accelerator)
    {
        var d = (p.GetValue(device) ?? "cpu") switch
        {
            "gpu" => FastInfer.Runtime.Backends.Device.Gpu,
            "auto" => FastInfer.Runtime.Backends.Device.Auto,
            _ => FastInfer.Runtime.Backends.Device.Cpu,
        };
        return new DeviceChoice(d, p.GetValue(accelerator) == "cpu");
    }

    /// <summary>Points the session options at the chosen device (nothing to do for the CPU).</summary>
    public static void Apply(SessionOptions options, DeviceChoice choice)
    {
        if (choice.Device == FastInfer.Runtime.Backends.Device.Cpu) return;
#if FASTINFER_GPU
        options.UseGpu(choice.Device, choice.IlgpuCpu ? GpuOptions.CpuAccelerator : null);
#else
        // The NativeAOT build has no GPU provider: "auto" quietly stays on the CPU, "gpu" cannot be honoured.
        if (choice.Device == FastInfer.Runtime.Backends.Device.Gpu)
            throw new CliException("--device gpu: this build of fastinfer has no GPU support (FastInfer.Gpu is left out of NativeAOT builds); use the JIT build");
#endif
    }

    /// <summary>Accelerators ILGPU sees on this machine, or a note that this build has none.</summary>
    public static IReadOnlyList<string> ListAccelerators() =>
#if FASTINFER_GPU
        GpuAccelerator.ListDevices();
#else
        ["(GPU support is not in this build: FastInfer.Gpu is left out of NativeAOT builds)"];
#endif
}
