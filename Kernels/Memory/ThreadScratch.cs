using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Memory;

/// <summary>
/// Per-thread scratch for a kernel's part of a parallel loop whose intermediate data never leaves its thread (a
/// Winograd part's V and O, an im2col band's columns). Memory only one thread ever writes stays in that core's
/// caches: the plan's arena hands the same bytes to different steps split differently across threads, and with the
/// host's two vCPUs on distant cores, writing lines the other core last wrote made an im2col 2-2.5× slower at two
/// threads than at one. Grows to the largest request and is kept (pool workers are persistent), so a run allocates
/// nothing once every shape has been seen.
/// </summary>
public static unsafe class ThreadScratch
{
    [ThreadStatic] private static AlignedBuffer? t_buffer;

    /// <summary>
    /// <c>pool.For(count, ref body)</c> for a loop whose parts take up to <paramref name="floats"/> of scratch each, after
    /// making sure the calling thread's scratch holds that much: the caller may run no part in one call (the workers
    /// took them all) and one in the next, and must not allocate then (a run allocates nothing after its first).
    /// </summary>
    public static void For<T>(WorkerPool pool, int count, ref T body, long floats) where T : struct, IParallelBody
    {
        Get(floats);
        pool.For(count, ref body);
    }

    /// <summary>At least <paramref name="floats"/> floats, 64-byte aligned, contents undefined; valid until the next call on this thread.</summary>
    public static float* Get(long floats) => Grow(ref t_buffer, floats);

    /// <summary>
    /// <paramref name="buffer"/> (a thread's own) holding at least <paramref name="floats"/> floats, replaced by a larger one
    /// when it does not; contents undefined after a replacement. A power of two, at least 1 MiB: which step's part a pool
    /// thread runs varies from run to run, so a thread would otherwise grow its buffer again (and allocate) whenever it
    /// first meets a larger part.
    /// </summary>
    internal static float* Grow(ref AlignedBuffer? buffer, long floats)
    {
        long bytes = floats * sizeof(float);
        var b = buffer;
        if (b == null || b.ByteLength < bytes)
        {
            b?.Dispose();
            buffer = b = new AlignedBuffer(Math.Max(1L << 20, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)bytes)), zero: false);
        }
        return b.Floats;
    }
}
