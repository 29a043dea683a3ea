using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;
using FastInfer.Tests.Support;
using Xunit;
using static FastInfer.Tests.Kernels.KernelTestUtil;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// <see cref="Sgemm.Multiply"/> on shapes it computes as Cᵀ = op(B)ᵀ·op(A)ᵀ (a tall A, a narrow or ragged N, beta 0,
/// AVX-512): against the double-accumulating reference, and bit for bit against the direct orientation (the same product
/// with B prepacked, which never transposes), for 1, 2 and 3 threads.
/// </summary>
public unsafe class TransposedProductTests
{
    private static bool Avx512 => KernelIsa.Supported().Contains(IsaLevel.Avx512);

    [Fact]
    public void ChoosesTheTransposedProductOnlyWhereNsTailWouldCostMore()
    {
        if (!Avx512) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        Assert.True(Sgemm.TransposesProduct(512, 49, 4608, 0f));   // ResNet-18 layer4 as a GEMM: 49 = 32 + 17
        Assert.False(Sgemm.TransposesProduct(256, 196, 2304, 0f)); // layer3: 196 = 6·32 + 4, a tail too small to pay
        Assert.True(Sgemm.TransposesProduct(512, 20, 1152, 0f));
        Assert.True(Sgemm.TransposesProduct(128, 49, 4608, 0f));   // a short A too (its B would be read in place)
        Assert.False(Sgemm.TransposesProduct(512, 49, 4608, 1f));  // C is read: beta must be 0
        Assert.False(Sgemm.TransposesProduct(1024, 1024, 1024, 0f)); // full tiles both ways
        Assert.False(Sgemm.TransposesProduct(128, 784, 1152, 0f));  // a 16-column tail on a long N
        Assert.False(Sgemm.TransposesProduct(64, 3136, 576, 0f));
        Assert.False(Sgemm.TransposesProduct(49, 512, 4608, 0f));   // the narrow side already is the panel side
        Assert.False(Sgemm.TransposesProduct(512, 49, 40, 0f));     // too shallow to pay for the transpose
        using var avx2 = KernelIsa.Override(IsaLevel.Avx2Fma);
        Assert.False(Sgemm.TransposesProduct(512, 49, 4608, 0f));   // the tile efficiencies are the AVX-512 tile's
    }

    public static IEnumerable<object[]> Threads() => [[1], [2], [3]];

    [Theory]
    [MemberData(nameof(Threads))]
    public void MatchesTheReferenceAndTheDirectOrientation(int threads)
    {
        if (!Avx512) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        using var pool = new WorkerPool(threads);
        var rnd = new Random(40 + threads);
        using var bias = Random(600, rnd);
        // Odd M (partial 16-row blocks of the transposing store), N tails of every kind, one and several K blocks, a short A.
        var shapes = new[] { (205, 37, 300), (200, 5, 770), (330, 49, 400), (256, 68, 1200), (199, 21, 1000), (70, 13, 500) };
        int seed = 500;
        foreach (var (m, n, k) in shapes)
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        {
            Assert.True(Sgemm.TransposesProduct(m, n, k, 0f), $"{m}x{n}x{k} should take the transposed product");
            var epi = (seed % 4) switch
            {
                0 => default,
                1 => new GemmEpilogue { Bias = bias.Floats, BiasKind = BiasKind.PerRow, Activation = Activation.Relu },
                2 => new GemmEpilogue { BiasKind = BiasKind.PerRow, Bias = bias.Floats, Activation = new Activation(ActivationKind.Gelu) },
                _ => new GemmEpilogue { Activation = Activation.Clip(-0.5f, 0.5f) },
            };
            Check(pool, ta, tb, m, n, k, seed % 3 == 0 ? -0.75f : 1f, epi, withResidual: seed % 2 == 0, rnd, seed);
            seed++;
        }
    }

    [Fact]
    public void PerColumnBiasMatchesTheReference()
    {
        if (!Avx512) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        using var pool = new WorkerPool(2);
        var rnd = new Random(77);
        using var bias = Random(64, rnd);
        int m = 300, n = 45, k = 900;
        Assert.True(Sgemm.TransposesProduct(m, n, k, 0f));
        int lda = k + 3, ldb = n + 1, ldc = n + 7;
        using var a = Random((long)m * lda, rnd);
        using var b = Random((long)k * ldb, rnd);
        using var want = new AlignedBuffer((long)m * ldc * 4);
        using var got = new AlignedBuffer((long)m * ldc * 4);
        var epi = new GemmEpilogue { Bias = bias.Floats, BiasKind = BiasKind.PerColumn, Activation = Activation.LeakyRelu(0.1f) };
        SgemmReference.Multiply(false, false, m, n, k, 1f, a.Floats, lda, b.Floats, ldb, 0f, want.Floats, ldc, epi);
        Sgemm.Multiply(false, false, m, n, k, 1f, a.Floats, lda, b.Floats, ldb, 0f, got.Floats, ldc, epi, pool);
        double tol = 2e-5 * Math.Sqrt(k);
        AssertClose(want.Floats, got.Floats, (long)m * ldc, tol, tol, "per-column bias");
    }

    /// <summary>One product: against the reference, and bit for bit against the same product with B prepacked (the direct orientation).</summary>
    private static void Check(WorkerPool pool, bool ta, bool tb, int m, int n, int k, float alpha, GemmEpilogue epi, bool withResidual, Random rnd, int seed)
    {
        int lda = ta ? m + 3 : k + 1, ldb = tb ? k + 2 : n + 5, ldc = n + 4;
        using var a = Random((long)(ta ? k : m) * lda, rnd);
        using var b = Random((long)(tb ? n : k) * ldb, rnd);
        using var residual = Random((long)m * (n + 2), rnd);
        if (withResidual) epi = epi with { Residual = residual.Floats, ResidualStride = n + 2 };
        // C starts as garbage: with beta 0 none of it may show through, and the columns past N must stay as they were.
        using var want = Random((long)m * ldc, rnd);
        using var got = Copy(want, (long)m * ldc);
        using var direct = Copy(want, (long)m * ldc);
        SgemmReference.Multiply(ta, tb, m, n, k, alpha, a.Floats, lda, b.Floats, ldb, 0f, want.Floats, ldc, epi);
        Sgemm.Multiply(ta, tb, m, n, k, alpha, a.Floats, lda, b.Floats, ldb, 0f, got.Floats, ldc, epi, pool);
        using (var pb = Sgemm.PackB(tb, k, n, b.Floats, ldb))
            Sgemm.MultiplyPacked(ta, m, n, k, alpha, a.Floats, lda, pb, 0f, direct.Floats, ldc, epi, pool);
        string what = $"t{pool.Concurrency} ta={ta} tb={tb} {m}x{n}x{k} α={alpha} seed {seed}";
        double tol = 2e-5 * Math.Sqrt(k);
        AssertClose(want.Floats, got.Floats, (long)m * ldc, tol, tol, what);
        AssertEqual(direct.Floats, got.Floats, (long)m * ldc, what + " (transposed vs direct)");
    }

    [Fact]
    public void NoAllocationPerCallAfterWarmUp()
    {
        if (!Avx512) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        var rnd = new Random(13);
        int m = 256, n = 49, k = 400;
        Assert.True(Sgemm.TransposesProduct(m, n, k, 0f));
        using var a = Random((long)m * k, rnd);
        using var b = Random((long)k * n, rnd);
        using var c = new AlignedBuffer((long)m * n * 4);
        using var pool = new WorkerPool(2);
        for (int i = 0; i < 3; i++) Sgemm.Multiply(false, false, m, n, k, 1, a.Floats, k, b.Floats, n, 0, c.Floats, n, default, pool);
        long bytes = AllocationMeter.MeasureClean(() =>
        {
            for (int i = 0; i < 10; i++) Sgemm.Multiply(false, false, m, n, k, 1, a.Floats, k, b.Floats, n, 0, c.Floats, n, default, pool);
        }, attempts: 50);
        Assert.Equal(0, bytes);
    }
}
