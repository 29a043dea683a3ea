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
/// Indices are handed out in contiguous chunks (one per thread), not one at a time: a loop over a
/// thousand small items (a Winograd transform row, a pooling plane) would otherwise pay a cross-core atomic per
/// item, and neighbouring items — which often write neighbouring bytes of one cache line — would alternate
/// between cores. The counters each sit on their own cache line for the same reason.
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
    /// Chunks handed out per thread and loop: each thread takes one contiguous share, so a loop costs one cross-core
    /// atomic per thread and its items' neighbouring bytes stay on one core. In-process A/B on ResNet-18 at 2 threads
    /// (profile ab, FASTINFER_AB=chunks, this host's vCPUs far apart): 1 chunk 14.30-14.60 ms against 4 chunks
    /// 14.85-15.15 ms and 2 chunks 14.71-14.84 ms; MiniLM the same (11.98 ms both). 16 chunks had measured ~4% slower
    /// than 4. A thread that finishes early still takes a share its partner has not started. A field so benchmarks can
    /// A/B it.
    /// </summary>
    internal static int ChunksPerThread = 1;

    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs of idle spinning

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _wake = new(0);
    private int _busy; // 1 while a loop is in flight
    private Exception? _error;

    // The loop in flight; written by the dispatcher before it bumps _generation.
    private void* _body;
    private delegate*<void*, int, void> _invoke;
    private int _count;
    private int _chunk;
    private PaddedInt _next;       // first index not yet handed out
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
            _count = count;
            _chunk = Math.Max(1, count / (ChunksPerThread * Concurrency));
            _next.Value = 0;
            _finished.Value = 0;
            Volatile.Write(ref _gate.Value, 0); // open: workers may join from now on
            Interlocked.Increment(ref _generation.Value); // full fence: the fields above are visible to any worker that sees it
            int sleepers = Volatile.Read(ref _sleepers);
            if (sleepers > 0) _wake.Release(sleepers);

            long opened = LoopTrace.Enabled ? Stopwatch.GetTimestamp() : 0;
            try
            {
                int start, chunk = _chunk;
                while ((start = Interlocked.Add(ref _next.Value, chunk) - chunk) < count)
                {
                    int end = Math.Min(count, start + chunk);
                    for (int i = start; i < end; i++) body.Invoke(i);
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
                Volatile.Write(ref _next.Value, count); // stop handing out indices
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
            if (!TryJoin()) continue;
            if (LoopTrace.Enabled) _workerJoined = Stopwatch.GetTimestamp();
            int count = _count, chunk = _chunk, start;
            try
            {
                while ((start = Interlocked.Add(ref _next.Value, chunk) - chunk) < count)
                {
                    int end = Math.Min(count, start + chunk);
                    for (int i = start; i < end; i++) _invoke(_body, i);
                }
            }
            catch (Exception e)
            {
                // Reported to the caller; an unhandled exception here would kill the process.
                Interlocked.CompareExchange(ref _error, e, null);
                Volatile.Write(ref _next.Value, count);
            }
            if (LoopTrace.Enabled) _workerDone = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _finished.Value);
        }
    }

    /// <summary>
    /// Joins the open loop (counted in <see cref="_gate"/>), or returns false when it is already closed. A worker
    /// that joins a newer loop than the one it woke for simply works on that one: its fields were published
    /// before the gate opened.
    /// </summary>
    private bool TryJoin()
    {
        while (true)
        {
            int v = Volatile.Read(ref _gate.Value);
            if (v < 0) return false;
            if (Interlocked.CompareExchange(ref _gate.Value, v + 1, v) == v) return true;
        }
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
