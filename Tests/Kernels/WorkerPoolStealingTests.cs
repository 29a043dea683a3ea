using FastInfer.Kernels.Threading;
using Xunit;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// The pool's work stealing: every thread starts on its own even share of the indices, and one that runs out takes
/// the back half of another's remaining share. Every index must still run exactly once, whatever the shares' sizes,
/// and a thread stuck on one index must not hold up the rest of its share.
/// </summary>
public class WorkerPoolStealingTests
{
    private struct CountBody : IParallelBody
    {
        public int[] Hits;
        public void Invoke(int index) => Interlocked.Increment(ref Hits[index]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryIndexRunsOnceForAnyCountAndPoolSize(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (int count in new[] { 1, 2, 3, 5, 7, 16, 17, 36, 511, 4096 })
        {
            var body = new CountBody { Hits = new int[count] };
            for (int loop = 0; loop < 20; loop++)
            {
                Array.Clear(body.Hits);
                pool.For(count, ref body);
                Assert.All(body.Hits, h => Assert.Equal(1, h));
            }
        }
    }

    /// <summary>
    /// The first index of the second share blocks until every other index has run. Whichever thread takes it, the
    /// rest of that share can only be finished by another thread stealing it; without stealing the wait times out.
    /// </summary>
    private struct BlockingBody : IParallelBody
    {
        public int[] Hits;
        public int Blocker;
        public CountdownEvent Others;
        public bool[] OthersFinishedFirst;

        public void Invoke(int index)
        {
            if (index == Blocker)
            {
                OthersFinishedFirst[0] = Others.Wait(TimeSpan.FromSeconds(20));
                Interlocked.Increment(ref Hits[index]);
                return;
            }
            Interlocked.Increment(ref Hits[index]);
            Others.Signal();
        }
    }

    [Theory]
    [InlineData(2, 16)]
    [InlineData(2, 3)]
    [InlineData(3, 40)]
    public void AThreadStuckOnOneIndexHasTheRestOfItsShareStolen(int threads, int count)
    {
        using var pool = new WorkerPool(threads);
        for (int loop = 0; loop < 5; loop++)
        {
            using var others = new CountdownEvent(count - 1);
            var body = new BlockingBody { Hits = new int[count], Blocker = count / threads, Others = others, OthersFinishedFirst = new bool[1] };
            pool.For(count, ref body);
            Assert.True(body.OthersFinishedFirst[0], "the indices after the stuck one were never taken by another thread");
            Assert.All(body.Hits, h => Assert.Equal(1, h));
        }
    }

    private struct ThrowingBody : IParallelBody
    {
        public int[] Hits;
        public int Bad;
        public void Invoke(int index)
        {
            if (index == Bad) throw new InvalidOperationException($"index {index} failed");
            Interlocked.Increment(ref Hits[index]);
        }
    }

    [Fact]
    public void AnExceptionReachesTheCallerAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        foreach (int bad in new[] { 0, 63, 64, 127 })
        {
            var failing = new ThrowingBody { Hits = new int[128], Bad = bad };
            var e = Assert.Throws<InvalidOperationException>(() => pool.For(128, ref failing));
            Assert.Equal($"index {bad} failed", e.Message);
            Assert.All(failing.Hits, h => Assert.InRange(h, 0, 1));
            var body = new CountBody { Hits = new int[128] };
            pool.For(128, ref body);
            Assert.All(body.Hits, h => Assert.Equal(1, h));
        }
    }

    /// <summary>
    /// Back-to-back tiny loops: a worker that woke late for one loop can join the next while it is still open, finish,
    /// see the generation move on and try to join the same loop again; that second join once took a share slot past
    /// the pool's threads (an index out of range on the worker, rethrown here).
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void ManyTinyLoopsBackToBackNeverJoinOneLoopTwice(int threads)
    {
        // More threads than this machine's cores: workers are preempted between seeing a loop and joining it.
        using var pool = new WorkerPool(threads);
        var body = new CountBody { Hits = new int[threads + 1] };
        for (int loop = 0; loop < 100_000; loop++)
        {
            int count = threads + loop % 2;
            Array.Clear(body.Hits);
            pool.For(count, ref body);
            for (int i = 0; i < count; i++) Assert.Equal(1, body.Hits[i]);
        }
    }
}
