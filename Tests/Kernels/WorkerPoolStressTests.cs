using FastInfer.Kernels.Threading;
using Xunit;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// Many short loops on pools with more workers than cores, with pauses long enough for workers to go to
/// sleep between loops: the pattern that once lost a wake-up (one worker consumed another's permit) and
/// left the caller waiting forever. Each loop must complete and cover every index exactly once.
/// </summary>
public class WorkerPoolStressTests
{
    private struct CountBody : IParallelBody
    {
        public int[] Hits;
        public void Invoke(int index) => Interlocked.Increment(ref Hits[index]);
    }

    [Fact]
    public async Task ShortLoopsWithIdleGapsAlwaysComplete()
    {
        var done = Task.Run(() =>
        {
            foreach (int workers in new[] { 2, 3, 5 })
            {
                using var pool = new WorkerPool(workers);
                var body = new CountBody { Hits = new int[17] };
                for (int loop = 0; loop < 300; loop++)
                {
                    Array.Clear(body.Hits);
                    pool.For(body.Hits.Length, ref body);
                    Assert.All(body.Hits, h => Assert.Equal(1, h));
                    // Every few loops, idle past the spin window so workers park on the semaphore.
                    if (loop % 10 == 0) Thread.Sleep(1);
                }
            }
        });
        var finished = await Task.WhenAny(done, Task.Delay(TimeSpan.FromMinutes(3)));
        Assert.True(finished == done, "a WorkerPool loop never completed (lost wake-up?)");
        await done;
    }
}
