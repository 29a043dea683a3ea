using FastInfer.Runtime.Backends;
using FastInfer.Runtime.Planning;

namespace FastInfer.Runtime;

public sealed partial class InferenceSession
{
    /// <summary>The execution provider the session runs on, or null for the CPU.</summary>
    public string? ExecutionProviderName => _provider?.Name;

    /// <summary>The device the session runs on, in words ("CPU" without a provider).</summary>
    public string DeviceName => _provider?.DeviceName ?? "CPU";

    /// <summary>
    /// Plans for the given input shapes (as <see cref="DescribePlan"/>) and describes how the steps are split
    /// between the device and the CPU; null when the session runs on the CPU only.
    /// </summary>
    public DevicePlanSummary? DescribeDevicePlan(IReadOnlyDictionary<string, int[]>? inputShapes = null)
    {
        if (_provider is null) return null;
        return WithPlanFor(inputShapes, plan => plan.Device?.Describe());
    }

    /// <summary>Gives a freshly built plan its device plan (when the session has a provider).</summary>
    private void AttachDevicePlan(ExecutionPlan plan)
    {
        if (_provider is null) return;
        plan.Device = _provider.CreatePlan(new PlanDescription(plan));
    }

    /// <summary>Runs a plan through its device plan: views resolved, device steps, then host-side output copies.</summary>
    private static unsafe void ExecuteOnDevice(ExecutionPlan plan, ExecutionFrame frame, Kernels.Threading.WorkerPool pool)
    {
        nint[] ptr = frame.Pointers;
        foreach (var (alias, root) in plan.Aliases) ptr[alias] = ptr[root];
        plan.Device!.Execute(new HostFrame(plan, frame, pool));
        foreach (var (source, index) in plan.OutputCopies)
        {
            long bytes = plan.Values[plan.OutputIds[index]].ByteLength;
            Buffer.MemoryCopy((void*)ptr[source], (void*)ptr[plan.OutputIds[index]], bytes, bytes);
        }
    }
}
