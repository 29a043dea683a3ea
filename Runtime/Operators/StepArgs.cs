using System.Runtime.CompilerServices;
using FastInfer.Kernels.Threading;

namespace FastInfer.Runtime.Operators;

/// <summary>
/// The pointers one step reads and writes during a Run, resolved from the run's frame: inputs and outputs
/// by position (as in the node), scratch workspace from the arena, and the worker pool.
/// </summary>
internal readonly unsafe ref struct StepArgs
{
    private readonly nint[] _pointers;
    private readonly int[] _inputs;
    private readonly int[] _outputs;

    public StepArgs(nint[] pointers, int[] inputs, int[] outputs, nint workspace, WorkerPool pool)
    {
        _pointers = pointers; _inputs = inputs; _outputs = outputs; Workspace = workspace; Pool = pool;
    }

    public nint Workspace { get; }
    public WorkerPool Pool { get; }

    /// <summary>Address of input i; 0 when that optional input is absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Input(int i) => i < _inputs.Length && _inputs[i] >= 0 ? _pointers[_inputs[i]] : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Output(int i) => _pointers[_outputs[i]];

    public float* InF(int i) => (float*)Input(i);
    public float* OutF(int i) => (float*)Output(i);

    public Span<T> OutSpan<T>(int i, long count) where T : unmanaged => new((void*)Output(i), checked((int)count));
    public ReadOnlySpan<T> InSpan<T>(int i, long count) where T : unmanaged => new((void*)Input(i), checked((int)count));
}
