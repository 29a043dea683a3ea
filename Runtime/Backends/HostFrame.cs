using FastInfer.Kernels.Threading;
using FastInfer.Runtime.Operators;
using FastInfer.Runtime.Planning;

namespace FastInfer.Runtime.Backends;

/// <summary>
/// The host side of one run, handed to <see cref="IDevicePlan.Execute"/>: the host address of every value
/// (inputs and outputs bound to the caller's tensors, intermediates in the host arena, views resolved) and
/// the CPU fallback for steps the device does not run.
/// </summary>
public readonly unsafe struct HostFrame
{
    private readonly ExecutionPlan _plan;
    private readonly ExecutionFrame _frame;
    private readonly WorkerPool _pool;

    internal HostFrame(ExecutionPlan plan, ExecutionFrame frame, WorkerPool pool)
    {
        _plan = plan; _frame = frame; _pool = pool;
    }

    /// <summary>Host address of a value (0 for an output nobody asked for and that has no scratch yet: never).</summary>
    public nint Pointer(int valueId) => _frame.Pointers[valueId];

    /// <summary>Runs step <paramref name="stepIndex"/> with the CPU kernel, over host memory.</summary>
    public void RunOnCpu(int stepIndex)
    {
        var step = _plan.Steps[stepIndex];
        var args = new StepArgs(_frame.Pointers, step.Inputs, step.Outputs, (nint)_frame.Arena.Pointer + (nint)step.WorkspaceOffset, _pool);
        step.Action(in args);
    }
}
