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
        _plan = plan;
        _scratch = new AlignedBuffer?[plan.OutputIds.Length];
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

    private readonly AlignedBuffer?[] _scratch;
    private readonly ExecutionPlan _plan;

    /// <summary>Where graph output <paramref name="index"/> goes when the caller did not ask for it (made once per frame).</summary>
    public nint Scratch(int index)
    {
        var buffer = _scratch[index] ??= new AlignedBuffer(Math.Max(_plan.Values[_plan.OutputIds[index]].ByteLength, 64), zero: false);
        return (nint)buffer.Pointer;
    }

    public void Dispose()
    {
        Arena.Dispose();
        foreach (var s in _scratch) s?.Dispose();
    }
}
