namespace FastInfer.Kernels.Threading;

/// <summary>
/// The body of a parallel loop, as a struct so that the JIT specializes the call and no closure or
/// delegate is allocated per loop. <see cref="Invoke"/> is called once for each index in [0, count).
/// </summary>
public interface IParallelBody
{
    void Invoke(int index);
}
