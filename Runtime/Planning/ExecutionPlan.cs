using FastInfer.Ir;
using FastInfer.Kernels.Threading;
using FastInfer.Runtime.Operators;

namespace FastInfer.Runtime.Planning;

/// <summary>
/// Everything Run needs for one set of input shapes: the steps in order, each value's type, shape and
/// place, and the arena size. Immutable once built, so concurrent runs share it, each with its own frame.
/// </summary>
internal sealed unsafe class ExecutionPlan : IDisposable
{
    private readonly Stack<ExecutionFrame> _frames = new();
    private readonly List<ExecutionFrame> _allFrames = new();

    public required PlanValue[] Values { get; init; }
    public required PlannedStep[] Steps { get; init; }
    /// <summary>Value id of each graph input, in graph order.</summary>
    public required int[] InputIds { get; init; }
    /// <summary>Value id of each graph output, in graph order.</summary>
    public required int[] OutputIds { get; init; }
    /// <summary>Input shapes this plan was built for (the cache key).</summary>
    public required TensorShape[] InputShapes { get; init; }
    /// <summary>For inputs whose values decide shapes (e.g. a Reshape target fed at run time): the values planned for.</summary>
    public required byte[]?[] InputValueKeys { get; init; }
    /// <summary>Graph outputs not written by a step (a constant, an input, a view): copied after the steps.</summary>
    public required (int Source, int OutputIndex)[] OutputCopies { get; init; }
    /// <summary>Views resolved at the start of each run, in dependency order: (alias id, root id).</summary>
    public required (int Alias, int Root)[] Aliases { get; init; }
    public required long ArenaBytes { get; init; }
    /// <summary>Memory of values folded at plan time.</summary>
    public required List<IDisposable> OwnedConstants { get; init; }
    /// <summary>Nodes computed once when planning instead of on every run.</summary>
    public int FoldedNodes { get; init; }
    /// <summary>Runs (and planners) holding this plan; guarded by the session's plan cache lock.</summary>
    public int Users { get; set; }
    /// <summary>Evicted from the cache: disposed when the last user releases it.</summary>
    public bool Retired { get; set; }
    /// <summary>The execution provider's plan for these shapes (Runtime/Backends), or null to run on the CPU.</summary>
    public Backends.IDevicePlan? Device { get; set; }

    /// <summary>Frames created so far: the most runs that have used this plan at once (or the prewarmed count).</summary>
    public int FrameCount { get { lock (_frames) return _allFrames.Count; } }

    /// <summary>
    /// A frame for one run: a pooled one when free, else a new one (kept for reuse). Frames are never shared by two runs
    /// in flight, so concurrent runs of one plan each have their own arena and value table.
    /// </summary>
    public ExecutionFrame RentFrame()
    {
        lock (_frames)
        {
            if (_frames.Count > 0) return _frames.Pop();
        }
        var frame = new ExecutionFrame(this);
        lock (_frames) _allFrames.Add(frame);
        return frame;
    }

    /// <summary>Creates frames until <paramref name="count"/> exist, so that many concurrent runs allocate nothing.</summary>
    public void Prewarm(int count)
    {
        lock (_frames)
        {
            while (_allFrames.Count < count)
            {
                var frame = new ExecutionFrame(this);
                _allFrames.Add(frame);
                _frames.Push(frame);
            }
        }
    }

    public void ReturnFrame(ExecutionFrame frame)
    {
        lock (_frames) _frames.Push(frame);
    }

    /// <summary>Runs the steps; the frame's input and output pointers must already be bound.</summary>
    public void Execute(ExecutionFrame frame, WorkerPool pool)
    {
        nint[] ptr = frame.Pointers;
        foreach (var (alias, root) in Aliases) ptr[alias] = ptr[root];
        nint arena = (nint)frame.Arena.Pointer;
        foreach (var step in Steps)
        {
            var args = new StepArgs(ptr, step.Inputs, step.Outputs, arena + (nint)step.WorkspaceOffset, pool);
            step.Action(in args);
        }
        foreach (var (source, index) in OutputCopies)
        {
            var v = Values[OutputIds[index]];
            long bytes = v.ByteLength;
            Buffer.MemoryCopy((void*)ptr[source], (void*)ptr[OutputIds[index]], bytes, bytes);
        }
    }

    public void Dispose()
    {
        lock (_frames)
        {
            foreach (var f in _allFrames) f.Dispose();
            _allFrames.Clear();
            _frames.Clear();
        }
        Device?.Dispose();
        foreach (var c in OwnedConstants) c.Dispose();
    }
}
