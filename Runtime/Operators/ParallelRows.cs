using FastInfer.Kernels.Threading;

namespace FastInfer.Runtime.Operators;

/// <summary>A kernel over a range of independent rows (or elements): what <see cref="ParallelRows"/> shares out.</summary>
internal interface IRowRange
{
    void Rows(long start, long end);
}

/// <summary>
/// Splits independent rows across the worker pool in a few contiguous ranges, for the memory-bound steps between
/// GEMMs (softmax, element-wise functions): on two threads they would otherwise be the serial part that limits the
/// speed-up. Small inputs stay on the calling thread, where a hand-off would cost more than it saves. The kernel is a
/// struct, so nothing is allocated per call.
/// </summary>
internal static class ParallelRows
{
    /// <param name="minRowsPerTask">Rows worth one hand-off (about 10 µs of work).</param>
    public static void Run<TKernel>(WorkerPool pool, long rows, long minRowsPerTask, ref TKernel kernel) where TKernel : struct, IRowRange
    {
        long tasks = Math.Min(4L * pool.Concurrency, rows / Math.Max(1, minRowsPerTask));
        if (pool.Concurrency == 1 || tasks <= 1) { kernel.Rows(0, rows); return; }
        var body = new Body<TKernel> { Kernel = kernel, RowCount = rows, Tasks = (int)tasks };
        pool.For((int)tasks, ref body);
    }

    private struct Body<TKernel> : IParallelBody where TKernel : struct, IRowRange
    {
        public TKernel Kernel;
        public long RowCount;
        public int Tasks;

        public void Invoke(int index) => Kernel.Rows(RowCount * index / Tasks, RowCount * (index + 1) / Tasks);
    }
}
