namespace FastInfer.Tests.Support;

/// <summary>
/// Managed bytes a piece of code allocates on the calling thread, read only over windows in which no garbage
/// collection ran. <see cref="GC.GetAllocatedBytesForCurrentThread"/> can move by up to an allocation quantum (~8 KB)
/// when a collection — triggered by other test classes allocating in the same process — retires this thread's
/// allocation context mid-window (dotnet/coreclr#10207); CI saw 7,968 B "allocated" by code that allocates nothing.
/// A real per-run allocation shows in every window, with or without a collection.
/// </summary>
public static class AllocationMeter
{
    /// <summary>Bytes allocated by <paramref name="action"/>, or null when a collection ran during it (the count is then unreliable).</summary>
    public static long? Measure(Action action)
    {
        int collections = GC.CollectionCount(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        return GC.CollectionCount(0) == collections ? bytes : null;
    }

    /// <summary>
    /// Bytes allocated by <paramref name="action"/>: the least over three windows without a collection (measured again, up
    /// to <paramref name="attempts"/> times, while collections keep interrupting it); fails if no attempt ran without one.
    /// A real per-run allocation shows in every window; a quantum moved by something else (a CI run saw 8,048 B in one
    /// clean window of a Winograd loop that allocates nothing) does not show in all three.
    /// </summary>
    public static long MeasureClean(Action action, int attempts = 10)
    {
        long? least = null;
        int clean = 0;
        for (int i = 0; i < attempts && clean < 3; i++)
            if (Measure(action) is long bytes)
            {
                least = Math.Min(least ?? long.MaxValue, bytes);
                clean++;
            }
        return least ?? throw new Xunit.Sdk.XunitException($"every one of {attempts} allocation measurements was interrupted by a garbage collection");
    }
}
