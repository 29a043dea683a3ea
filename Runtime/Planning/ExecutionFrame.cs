using FastInfer.Kernels.Memory;

namespace FastInfer.Runtime.Planning;

/// <summary>
/// The per-run state of one plan: the arena and the table of value addresses. Created once per concurrent
/// run and reused, so Run allocates nothing.
/// </summary>
internal sealed unsafe class ExecutionFrame : IDisposable
{
    public ExecutionFrame(ExecutionPlan plan)
    {
        Arena = new AlignedBuffer(Math.Max(plan.ArenaBytes, 64), zero: false);
        Pointers = new nint[plan.Values.Length];
        nint basePtr = (nint)Arena.Pointer;
        foreach (var v in plan.Values)
        {
            Pointers[v.Id] = v.Kind switch
            {
                ValueKind.Constant => v.ConstantPointer,
                ValueKind.Intermediate when v.ArenaOffset >= 0 => basePtr + (nint)v.ArenaOffset,
                _ => 0,
            };
        }
    }

    public AlignedBuffer Arena { get; }
    public nint[] Pointers { get; }

    public void Dispose() => Arena.Dispose();
}
