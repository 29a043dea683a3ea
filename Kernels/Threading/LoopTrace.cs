using System.Diagnostics;

namespace FastInfer.Kernels.Threading;

/// <summary>
/// Opt-in timing of every parallel loop (for the profiler's <c>loops</c> view): when it opened, when the caller finished
/// its own share, when the worker joined and finished, when the loop closed. Off, it costs one static read per loop.
/// Meant for one pool with one worker (2 threads); records up to <see cref="Capacity"/> loops, then stops.
/// </summary>
public static class LoopTrace
{
    public const int Capacity = 1 << 16;

    /// <summary>One loop's timestamps (<see cref="Stopwatch"/> ticks); worker times are 0 when no worker joined.</summary>
    public readonly record struct Loop(int Count, long Opened, long CallerDone, long Closed, int Joined, long WorkerJoined, long WorkerDone);

    // Allocated by the first Start: every WorkerPool loop reads Enabled, and a session that never traces should not
    // carry 3.6 MB of records.
    private static Loop[]? s_loops;
    private static int s_count;

    public static bool Enabled { get; private set; }

    /// <summary>Clears the record and starts recording.</summary>
    public static void Start() { s_loops ??= new Loop[Capacity]; s_count = 0; Enabled = true; }

    /// <summary>Stops recording and returns the loops recorded since <see cref="Start"/>.</summary>
    public static ReadOnlySpan<Loop> Stop() { Enabled = false; return s_loops.AsSpan(0, s_loops != null ? s_count : 0); }

    internal static void Record(int count, long opened, long callerDone, long closed, int joined, long workerJoined, long workerDone)
    {
        if (s_loops != null && s_count < Capacity) s_loops[s_count++] = new Loop(count, opened, callerDone, closed, joined, joined > 0 ? workerJoined : 0, joined > 0 ? workerDone : 0);
    }
}
