using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace FastInfer.Kernels.Threading;

/// <summary>
/// A persistent pool of worker threads for intra-op parallelism. <see cref="For{T}"/> hands out indices
/// to the workers and the calling thread, which also works, and returns when all are done. It allocates
/// nothing per call: the body is a struct on the caller's stack, reached through a pointer, which is safe
/// because the caller does not return before every worker has finished with it.
///
/// Workers spin for a short while after each loop (a batch-1 network issues ~50 loops per inference and
/// a blocking hand-off costs ~10 µs each) and then park on a semaphore so an idle session burns no CPU.
///
/// The caller waits only for workers that joined the loop before it closed it, so a worker the OS has not
/// scheduled yet (an oversubscribed machine) costs nothing: the caller runs the remaining indices itself.
///
/// Each thread owns a contiguous range of the indices (an even share) and takes them from its front, one at a
/// time, with an atomic on a cache line no other thread touches while it has work: a loop over a thousand small
/// items (a Winograd transform row, a pooling plane) pays no cross-core traffic per item, and neighbouring items —
/// which often write neighbouring bytes of one cache line — stay on one core. A thread whose range runs out steals
/// the back half of another's remaining range and makes it its own (work stealing): this host's two vCPUs often run
/// at different speeds while both are busy (one 15-40% slower, either one, for minutes), and a fixed half each left
/// the faster one idle for 5-9% of a two-thread ResNet-18 run.
///
/// One loop runs at a time. A loop started while another is in flight — from another thread, or nested
/// inside a body — runs serially on its caller (the busy flag is not re-entrant, unlike a Monitor, so a
/// nested loop can never overwrite the outer loop's body). An exception thrown by a body on any thread
/// is rethrown to the caller, but only after every worker has stopped touching the body.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>A pool that runs every loop on the calling thread.</summary>
    public static WorkerPool Serial { get; } = new(1);

    /// <summary>
    /// Whether a thread whose own range is done steals from the others' (<see cref="StealFrom"/>). Off: every thread
    /// runs exactly its own share, and only the share of a worker that has not joined is taken (whole) by another. In-process A/B on
    /// ResNet-18 at 2 threads: see Kernels/README.md. A field so benchmarks can A/B it.
    /// </summary>
    internal static bool Steal = true;

    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs of idle spinning

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _wake = new(0);
    private int _busy; // 1 while a loop is in flight
    private Exception? _error;

    // The loop in flight; written by the dispatcher before it bumps _generation.
    private void* _body;
    private delegate*<void*, int, void> _invoke;
    private readonly PaddedRange[] _ranges; // per thread slot (the caller is slot 0): the indices it has yet to take
    private volatile bool _stop;            // a body threw: hand out nothing more
    private PaddedInt _gate;       // ≥ 0: the loop in flight is open and this many workers joined it; −1: closed
    private PaddedInt _finished;   // joined workers that are done with the loop in flight
    private PaddedInt _generation; // bumped once per loop; idle workers poll it
    private int _sleepers;
    private long _workerJoined, _workerDone; // for LoopTrace: the (last) worker's join and finish times in the loop in flight
    private volatile bool _disposed;

    /// <param name="concurrency">Threads that execute a loop, the caller included; 1 means no worker threads.</param>
    public WorkerPool(int concurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        Concurrency = concurrency;
        _gate.Value = -1;
        _workers = new Thread[concurrency - 1];
        _ranges = new PaddedRange[concurrency];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"FastInfer worker {i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that execute a loop, the caller included.</summary>
    public int Concurrency { get; }

    /// <summary>Runs <c>body.Invoke(i)</c> for every i in [0, count), in parallel where it can.</summary>
    public void For<T>(int count, ref T body) where T : struct, IParallelBody
    {
        if (count <= 0) return;
        // Serial when there is one index, no workers, or another loop (concurrent or nested) holds the pool.
        if (count == 1 || _workers.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            if (LoopTrace.Enabled && _workers.Length == 0 && this != Serial) { RunTraced(count, ref body); return; }
            for (int i = 0; i < count; i++) body.Invoke(i);
            return;
        }
        try
        {
            _error = null;
            _body = Unsafe.AsPointer(ref body);
            _invoke = &Invoke<T>;
            _stop = false;
            // Even shares, the caller's first: a worker that joins late finds the caller already busy on index 0.
            for (int t = 0; t < Concurrency; t++)
                _ranges[t].Value = PaddedRange.Pack((int)((long)count * t / Concurrency), (int)((long)count * (t + 1) / Concurrency));
            _finished.Value = 0;
            Volatile.Write(ref _gate.Value, 0); // open: workers may join from now on
            Interlocked.Increment(ref _generation.Value); // full fence: the fields above are visible to any worker that sees it
            int sleepers = Volatile.Read(ref _sleepers);
            if (sleepers > 0) _wake.Release(sleepers);

            long opened = LoopTrace.Enabled ? Stopwatch.GetTimestamp() : 0;
            try
            {
                while (TakeNext(0, out int i)) body.Invoke(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
                _stop = true; // stop handing out indices
            }

            // Close the loop: a worker that has not joined yet (descheduled, or still waking) never will, so the
            // caller waits only for the workers actually inside the body, never for one the OS has not run.
            int joined = Interlocked.Exchange(ref _gate.Value, -1);
            // The body lives on this stack frame: never leave before every joined worker is done with it.
            long callerDone = LoopTrace.Enabled ? Stopwatch.GetTimestamp() : 0;
            var spin = new SpinWait();
            while (Volatile.Read(ref _finished.Value) != joined) spin.SpinOnce(-1);
            if (LoopTrace.Enabled) LoopTrace.Record(count, opened, callerDone, Stopwatch.GetTimestamp(), joined, _workerJoined, _workerDone);
            _body = null;
            if (_error is { } error) { _error = null; ExceptionDispatchInfo.Throw(error); }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>A loop of a one-thread pool, recorded for <see cref="LoopTrace"/> so 1- and 2-thread runs compare loop by loop.</summary>
    private static void RunTraced<T>(int count, ref T body) where T : struct, IParallelBody
    {
        long opened = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++) body.Invoke(i);
        long done = Stopwatch.GetTimestamp();
        LoopTrace.Record(count, opened, done, done, 0, 0, 0);
    }

    private static void Invoke<T>(void* body, int index) where T : struct, IParallelBody
        => Unsafe.AsRef<T>(body).Invoke(index);

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            long idleSince = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation.Value) == seen)
            {
                if (_disposed) return;
                if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
                {
                    Thread.SpinWait(16);
                    continue;
                }
                Interlocked.Increment(ref _sleepers);
                if (Volatile.Read(ref _generation.Value) == seen && !_disposed) _wake.Wait();
                Interlocked.Decrement(ref _sleepers);
                idleSince = Stopwatch.GetTimestamp();
            }
            seen = Volatile.Read(ref _generation.Value);
            if (!TryJoin(out int slot)) continue;
            if (LoopTrace.Enabled) _workerJoined = Stopwatch.GetTimestamp();
            try
            {
                while (TakeNext(slot, out int i)) _invoke(_body, i);
            }
            catch (Exception e)
            {
                // Reported to the caller; an unhandled exception here would kill the process.
                Interlocked.CompareExchange(ref _error, e, null);
                _stop = true;
            }
            if (LoopTrace.Enabled) _workerDone = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _finished.Value);
        }
    }

    /// <summary>
    /// Joins the open loop (counted in <see cref="_gate"/>) and returns the joiner's range slot (1, 2, … in join
    /// order), or returns false when the loop is already closed or every slot is taken. A worker that joins a newer
    /// loop than the one it woke for simply works on that one: its fields were published before the gate opened. It
    /// may then, done with its share, see the generation move past the one it woke for and come back to the same loop
    /// while it is still open: a join past the last slot is refused (slots are unique per join, so no two threads
    /// ever own one).
    /// </summary>
    private bool TryJoin(out int slot)
    {
        while (true)
        {
            int v = Volatile.Read(ref _gate.Value);
            slot = v + 1;
            if (v < 0 || slot >= Concurrency) return false;
            if (Interlocked.CompareExchange(ref _gate.Value, v + 1, v) == v) return true;
        }
    }

    /// <summary>
    /// The next index for the thread in <paramref name="slot"/>: the front of its own range, or, once that is empty,
    /// of the back half it steals from another thread's. False when every range is empty (or a body threw).
    /// </summary>
    private bool TakeNext(int slot, out int index)
    {
        ref long own = ref _ranges[slot].Value;
        while (!_stop)
        {
            long r = Volatile.Read(ref own);
            var (lo, hi) = PaddedRange.Unpack(r);
            if (lo < hi)
            {
                if (Interlocked.CompareExchange(ref own, PaddedRange.Pack(lo + 1, hi), r) == r) { index = lo; return true; }
                continue; // a thief took the back half meanwhile
            }
            if (!StealFrom(slot, ref own)) break;
        }
        index = -1;
        return false;
    }

    /// <summary>
    /// Moves the back half (rounded up) of another slot's remaining range into this thread's empty range; false when
    /// every other range is empty. Only this thread writes its own range while it is empty (a thief skips an empty
    /// range), and a range never returns to an earlier value (indices are taken once), so the compare-exchanges need
    /// no version tag.
    /// </summary>
    private bool StealFrom(int slot, ref long own)
    {
        int joined = Volatile.Read(ref _gate.Value);
        for (int k = 1; k < Concurrency; k++)
        {
            int v = (slot + k) % Concurrency;
            // Stealing off: only the share of a slot no worker has joined for (yet), taken whole.
            if (!Steal && v <= joined) continue;
            ref long victim = ref _ranges[v].Value;
            while (true)
            {
                long r = Volatile.Read(ref victim);
                var (lo, hi) = PaddedRange.Unpack(r);
                if (lo >= hi) break;
                int mid = Steal ? hi - (hi - lo + 1) / 2 : lo;
                if (Interlocked.CompareExchange(ref victim, PaddedRange.Pack(lo, mid), r) == r)
                {
                    Volatile.Write(ref own, PaddedRange.Pack(mid, hi));
                    return true;
                }
            }
        }
        return false;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_workers.Length > 0) _wake.Release(_workers.Length);
        foreach (var t in _workers) t.Join();
        _wake.Dispose();
    }
}

/// <summary>An int alone on its cache line (64 bytes of padding either side), so that threads polling one counter do
/// not lose the line every time another thread bumps a neighbouring counter.</summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct PaddedInt
{
    [FieldOffset(64)] public int Value;
}

/// <summary>A thread's range of loop indices, [lo, hi) packed in one long, alone on its cache line.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedRange
{
    [FieldOffset(64)] public long Value;

    public static long Pack(int lo, int hi) => (long)(uint)lo | (long)hi << 32;

    public static (int Lo, int Hi) Unpack(long r) => ((int)r, (int)(r >> 32));
}
