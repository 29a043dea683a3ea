using FastInfer.Ir;
using FastInfer.Runtime;
using FastInfer.Runtime.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace FastInfer.Gpu.Execution;

/// <summary>
/// The ILGPU execution provider of one session: the session's float weights uploaded once (after the graph
/// passes, so BatchNorm is already folded into convolutions), and one <see cref="GpuDevicePlan"/> per input shape.
/// </summary>
public sealed class GpuExecutionProvider : IExecutionProvider
{
    private readonly Dictionary<nint, MemoryBuffer1D<float, Stride1D.Dense>> _weights = new();
    private bool _disposed;

    internal GpuExecutionProvider(GpuAccelerator gpu) { Gpu = gpu; }

    internal GpuAccelerator Gpu { get; }
    internal long Opset { get; private set; } = 13;

    public string Name => Gpu.Kind == GpuAcceleratorKind.Cuda ? "ilgpu-cuda" : "ilgpu-cpu";
    public string DeviceName => Gpu.Description;

    /// <summary>Bytes of weights held on the device.</summary>
    public long WeightBytes => _weights.Values.Sum(b => b.LengthInBytes);

    public unsafe void Prepare(ModelGraph graph)
    {
        Opset = graph.Opset;
        foreach (var init in graph.Initializers.Values)
        {
            if (init.ElementType != DataType.Float || init.Pointer == 0) continue;
            long count = init.ByteLength / sizeof(float);
            if (count == 0 || _weights.ContainsKey(init.Pointer)) continue;
            _weights[init.Pointer] = Upload(init.Pointer, count);
        }
    }

    public bool Supports(PlanDescription plan, StepDescription step) => NodeLowering.Analyze(plan, step, Opset) is not null;

    public IDevicePlan CreatePlan(PlanDescription plan) => GpuDevicePlan.Build(this, plan);

    internal bool TryGetWeight(nint pointer, long count, out ArrayView<float> view)
    {
        if (_weights.TryGetValue(pointer, out var buffer) && buffer.Length >= count) { view = buffer.View.SubView(0, count); return true; }
        view = default;
        return false;
    }

    internal unsafe MemoryBuffer1D<float, Stride1D.Dense> Upload(nint pointer, long count)
    {
        var buffer = Gpu.Accelerator.Allocate1D<float>(Math.Max(count, 1));
        if (count > 0)
            lock (Gpu.LaunchLock) buffer.View.CopyFromCPU(ref *(float*)pointer, count);
        return buffer;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var b in _weights.Values) b.Dispose();
        _weights.Clear();
    }
}
