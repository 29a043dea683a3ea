using FastInfer.Kernels.Blas;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;
using Xunit;
using Xunit.Abstractions;
using static FastInfer.Tests.Kernels.KernelTestUtil;

namespace FastInfer.Tests.Kernels;

/// <summary>The optional CBLAS provider, the ISA switch and the worker pool's contracts.</summary>
public unsafe class BlasAndPoolTests(ITestOutputHelper output)
{
    [Fact]
    public void CblasProviderMatchesReference()
    {
        if (!CblasProvider.TryLoad(out var blas, out string message))
        {
            output.WriteLine("Skipped: " + message); // no native BLAS on this machine: nothing to compare
            return;
        }
        using (blas)
        {
            output.WriteLine(message);
            var rnd = new Random(21);
            // Limited to one thread (as sysinfo and the benchmarks compare it) and to two, where the library splits larger products.
            foreach (int threads in new[] { 1, 2 })
            foreach (var (ta, tb, m, n, k) in new[] { (false, false, 17, 33, 65), (true, false, 5, 7, 129), (false, true, 31, 1, 64), (true, true, 64, 17, 3), (false, false, 200, 160, 300) })
            {
                blas!.LimitThreads(threads);
                int lda = ta ? m : k, ldb = tb ? k : n;
                using var a = Random((long)m * k, rnd);
                using var b = Random((long)k * n, rnd);
                using var want = Random((long)m * n, rnd);
                using var got = Copy(want, (long)m * n);
                SgemmReference.Multiply(ta, tb, m, n, k, 0.5f, a.Floats, lda, b.Floats, ldb, 2f, want.Floats, n);
                blas!.Sgemm(ta, tb, m, n, k, 0.5f, a.Floats, lda, b.Floats, ldb, 2f, got.Floats, n);
                double tol = 2e-5 * Math.Sqrt(k);
                AssertClose(want.Floats, got.Floats, (long)m * n, tol, tol, $"{blas.LibraryName} {ta}{tb} {m}x{n}x{k}");
            }
        }
    }

    [Fact]
    public void IsaOverrideIsScopedAndRestored()
    {
        var before = KernelIsa.Current;
        using (KernelIsa.Override(IsaLevel.Scalar))
        {
            Assert.Equal(IsaLevel.Scalar, KernelIsa.Current);
            using (KernelIsa.Override(IsaLevel.Vector128 <= KernelIsa.Best ? IsaLevel.Vector128 : IsaLevel.Scalar))
                Assert.NotEqual(before == IsaLevel.Scalar ? (IsaLevel)(-1) : before, KernelIsa.Current);
            Assert.Equal(IsaLevel.Scalar, KernelIsa.Current);
        }
        Assert.Equal(before, KernelIsa.Current);
    }

    private struct Count : IParallelBody
    {
        public int* Hits;
        public void Invoke(int i) => Interlocked.Increment(ref Hits[i]);
    }

    private struct Nested : IParallelBody
    {
        public WorkerPool Pool;
        public int* Hits;
        public void Invoke(int i)
        {
            var inner = new Count { Hits = Hits + i * 8 };
            Pool.For(8, ref inner);
        }
    }

    private struct Throws : IParallelBody
    {
        public void Invoke(int i) { if (i == 37) throw new InvalidOperationException("body " + i); }
    }

    [Fact]
    public void WorkerPoolRunsEveryIndexOnceNestedLoopsAndExceptions()
    {
        using var pool = new WorkerPool(2);
        using var hits = new AlignedBuffer(64 * 8 * sizeof(int));
        int* h = (int*)hits.Pointer;
        for (int round = 0; round < 200; round++)
        {
            var body = new Count { Hits = h };
            pool.For(64, ref body);
        }
        for (int i = 0; i < 64; i++) Assert.Equal(200, h[i]);

        new Span<int>(h, 64 * 8).Clear();
        var nested = new Nested { Pool = pool, Hits = h };
        pool.For(8, ref nested); // inner loops run serially on whichever thread holds them
        for (int i = 0; i < 64; i++) Assert.Equal(1, h[i]);

        var throws = new Throws();
        Assert.Throws<InvalidOperationException>(() => pool.For(100, ref throws));
        var again = new Count { Hits = h };
        pool.For(64, ref again); // the pool still works afterwards
        Assert.Equal(2, h[0]);
    }
}
