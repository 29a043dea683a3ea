using FastInfer.Gpu.Kernels;
using ILGPU;

namespace FastInfer.Gpu.Execution;

/// <summary>Device memory a lowered step is built against: each value's view, its scratch, the kernels.</summary>
internal interface IPlanViews
{
    GpuKernelSet Kernels { get; }
    /// <summary>The device view of a value (its root's memory for a view), one element per tensor element.</summary>
    ArrayView<float> Of(int valueId);
    /// <summary>This step's scratch memory in the device arena.</summary>
    ArrayView<float> Workspace { get; }
    /// <summary>A one-element buffer bound where an optional operand is absent.</summary>
    ArrayView<float> None { get; }
}

/// <summary>
/// A node the GPU can run, decided at plan time: the values it reads and writes on the device, the scratch it
/// needs, and how to make its device ops once memory is placed.
/// </summary>
internal sealed class LoweredStep
{
    public LoweredStep(int[] reads, int[] writes, long workspaceFloats, Func<IPlanViews, IEnumerable<DeviceOp>> build)
    {
        Reads = reads; Writes = writes; WorkspaceFloats = workspaceFloats; Build = build;
    }

    /// <summary>A step that needs no device work: a view (Reshape, Flatten, ...) whose output shares its input's memory.</summary>
    public static LoweredStep View() => new(Array.Empty<int>(), Array.Empty<int>(), 0, _ => Array.Empty<DeviceOp>());

    public int[] Reads { get; }
    public int[] Writes { get; }
    public long WorkspaceFloats { get; }
    public Func<IPlanViews, IEnumerable<DeviceOp>> Build { get; }
}
