using FastInfer.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace FastInfer.Gpu;

/// <summary>Which ILGPU accelerator runs the kernels.</summary>
public enum GpuAcceleratorKind
{
    /// <summary>An NVIDIA GPU through CUDA (the product path).</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator: runs the same kernels, slowly, on machines without a GPU (tests).</summary>
    IlgpuCpu,
}

/// <summary>
/// An opened ILGPU accelerator with every kernel compiled. Opened once per process and kind (creating a CUDA
/// context and compiling kernels takes a while), shared by sessions, and released at process exit.
/// </summary>
public sealed class GpuAccelerator
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<(GpuAcceleratorKind, int), GpuAccelerator> s_open = new();

    private GpuAccelerator(Context context, Accelerator accelerator, GpuAcceleratorKind kind)
    {
        Context = context;
        Accelerator = accelerator;
        Kind = kind;
        Kernels = new GpuKernelSet(accelerator);
        Dummy = accelerator.Allocate1D<float>(1);
        Dummy.MemSetToZero();
        Description = kind == GpuAcceleratorKind.Cuda
            ? $"{accelerator.Name} (CUDA, {accelerator.MemorySize / (1024 * 1024)} MiB)"
            : $"{accelerator.Name} (ILGPU CPU accelerator: the GPU kernels simulated on the CPU)";
    }

    internal Context Context { get; }
    internal Accelerator Accelerator { get; }
    internal GpuKernelSet Kernels { get; }
    /// <summary>A one-element buffer bound where a kernel's optional operand is absent.</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> Dummy { get; }
    /// <summary>Serializes launches from sessions sharing this accelerator.</summary>
    internal object LaunchLock { get; } = new();
    public GpuAcceleratorKind Kind { get; }
    public string Description { get; }

    /// <summary>
    /// Opens (or returns the already open) accelerator; null when it does not exist, with
    /// <paramref name="lookedFor"/> saying what was probed and what was found.
    /// </summary>
    public static GpuAccelerator? TryOpen(GpuAcceleratorKind kind, int deviceIndex, out string lookedFor)
    {
        lock (s_lock)
        {
            if (s_open.TryGetValue((kind, deviceIndex), out var open)) { lookedFor = ""; return open; }
            if (kind == GpuAcceleratorKind.IlgpuCpu)
            {
                // 16×16 thread groups (the tiled GEMM's shape) must fit one simulated multiprocessor.
                var device = new CPUDevice(numThreadsPerWarp: 16, numWarpsPerMultiprocessor: 16, numMultiprocessors: 1);
                var context = Context.Create(b => b.CPU(device).EnableAlgorithms().Optimize(OptimizationLevel.O1));
                var created = new GpuAccelerator(context, context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel), kind);
                s_open[(kind, deviceIndex)] = created;
                lookedFor = "";
                return created;
            }
            Context? cuda = null;
            try
            {
                cuda = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
                var devices = cuda.GetCudaDevices();
                if (devices.Count <= deviceIndex)
                {
                    lookedFor = $"CUDA device #{deviceIndex} through ILGPU (libcuda / the NVIDIA driver): found {devices.Count} CUDA device(s)";
                    cuda.Dispose();
                    return null;
                }
                var created = new GpuAccelerator(cuda, cuda.CreateCudaAccelerator(deviceIndex), kind);
                s_open[(kind, deviceIndex)] = created;
                lookedFor = "";
                return created;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                cuda?.Dispose();
                lookedFor = $"CUDA device #{deviceIndex} through ILGPU (libcuda / the NVIDIA driver): {e.GetType().Name}: {e.Message}";
                return null;
            }
        }
    }

    /// <summary>Accelerators ILGPU can see on this machine, in words (for <c>fastinfer sysinfo</c>).</summary>
    public static IReadOnlyList<string> ListDevices()
    {
        var found = new List<string>();
        try
        {
            using var context = Context.Create(b => b.AllAccelerators());
            foreach (var d in context.Devices)
                found.Add($"{d.AcceleratorType}: {d.Name}, {d.MemorySize / (1024 * 1024)} MiB, max {d.MaxNumThreadsPerGroup} threads/group");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            found.Add($"(probing accelerators failed: {e.GetType().Name}: {e.Message})");
        }
        return found;
    }
}
