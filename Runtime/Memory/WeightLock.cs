using System.Runtime.InteropServices;
using FastInfer.Ir;

namespace FastInfer.Runtime.Memory;

/// <summary>
/// Locks a graph's weights in RAM (<c>mlock</c>) for <see cref="SessionOptions.LockWeights"/>: a latency-sensitive
/// service must not page its weights out under memory pressure and then stall a request on reading them back.
/// Works for both placements (pinned blocks and mapped file pages). Linux and macOS; elsewhere it is refused.
/// </summary>
internal static unsafe partial class WeightLock
{
    /// <summary>Locks every initializer's bytes; on failure unlocks what it locked and throws, naming the limit.</summary>
    /// <returns>The bytes locked.</returns>
    public static long Lock(ModelGraph graph)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            throw new PlatformNotSupportedException("SessionOptions.LockWeights needs mlock (Linux or macOS).");
        long locked = 0;
        foreach (var t in graph.Initializers.Values)
        {
            if (t.ByteLength <= 0 || t.Pointer == 0) continue;
            if (Mlock((void*)t.Pointer, (nuint)t.ByteLength) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                Unlock(graph);
                throw new InvalidOperationException(
                    $"SessionOptions.LockWeights: locking the {t.ByteLength:N0} bytes of weight '{t.Name}' failed (errno {errno}) after " +
                    $"{locked:N0} bytes; the process may lock at most its RLIMIT_MEMLOCK (see `ulimit -l`). Raise the limit or turn LockWeights off.");
            }
            locked += t.ByteLength;
        }
        return locked;
    }

    /// <summary>Unlocks every initializer's pages (memory that is freed later may otherwise stay locked in the heap).</summary>
    public static void Unlock(ModelGraph graph)
    {
        foreach (var t in graph.Initializers.Values)
            if (t.ByteLength > 0 && t.Pointer != 0) Munlock((void*)t.Pointer, (nuint)t.ByteLength);
    }

    [LibraryImport("libc", EntryPoint = "mlock", SetLastError = true)]
    private static partial int Mlock(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "munlock", SetLastError = true)]
    private static partial int Munlock(void* address, nuint length);
}
