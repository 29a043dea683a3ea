using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;
using FastInfer.Tests.Support;
using Xunit;
using static FastInfer.Tests.Kernels.KernelTestUtil;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// Every SGEMM entry point on every ISA tier, 1 and 2 threads, against the double-accumulating reference.
/// Inputs are uniform in [−1, 1]; fp32 accumulation error grows like √K, so the tolerance is
/// rtol = atol = 2e-5·√K (K ≥ 1). Sizes straddle the tiles (Mr 4/6/12, Nr 16/32), the K block (384) and
/// the N blocks (256 columns; 1024 for a tall A packed on the fly).
/// </summary>
public unsafe class SgemmTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 16, 17, 31, 33, 63, 64, 65, 127, 129];

    private static double Tol(int k) => 2e-5 * Math.Sqrt(Math.Max(1, k));

    public static IEnumerable<object[]> Cases() => IsaAndThreads();

    /// <summary>One product through the chosen entry point, compared with the reference.</summary>
    private static void Check(IsaLevel isa, WorkerPool pool, string api, bool ta, bool tb, int m, int n, int k,
        float alpha, float beta, GemmEpilogue epi, int seed)
    {
        using var scope = KernelIsa.Override(isa);
        var rnd = new Random(seed);
        int lda = ta ? m + 3 : k + 1, ldb = tb ? k + 2 : n + 5, ldc = n + 4;
        using var a = Random((long)(ta ? k : m) * lda, rnd);
        using var b = Random((long)(tb ? n : k) * ldb, rnd);
        using var c0 = Random((long)m * ldc, rnd);
        using var want = Copy(c0, (long)m * ldc);
        using var got = Copy(c0, (long)m * ldc);
        SgemmReference.Multiply(ta, tb, m, n, k, alpha, a.Floats, lda, b.Floats, ldb, beta, want.Floats, ldc, epi);
        switch (api)
        {
            case "Multiply":
                Sgemm.Multiply(ta, tb, m, n, k, alpha, a.Floats, lda, b.Floats, ldb, beta, got.Floats, ldc, epi, pool);
                break;
            case "PackedB":
                using (var pb = Sgemm.PackB(tb, k, n, b.Floats, ldb))
                    Sgemm.MultiplyPacked(ta, m, n, k, alpha, a.Floats, lda, pb, beta, got.Floats, ldc, epi, pool);
                break;
            case "PackedA":
                using (var pa = Sgemm.PackA(ta, m, k, a.Floats, lda))
                    Sgemm.MultiplyPackedA(pa, n, alpha, b.Floats, ldb, beta, got.Floats, ldc, epi, pool);
                break;
        }
        string what = $"{api} {isa} t{pool.Concurrency} ta={ta} tb={tb} {m}x{n}x{k} α={alpha} β={beta}";
        AssertClose(want.Floats, got.Floats, (long)m * ldc, Tol(k), Tol(k), what);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SizesSweep(IsaLevel isa, int threads)
    {
        using var pool = new WorkerPool(threads);
        int seed = 1;
        foreach (int s in Sizes)
        {
            Check(isa, pool, "PackedA", false, false, s, 33, 65, 1, 0, default, seed++);
            Check(isa, pool, "PackedB", false, false, 17, s, 31, 1, 0, default, seed++);
            Check(isa, pool, "Multiply", false, false, 13, 19, s, 1, 0, default, seed++);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BlockBoundaries(IsaLevel isa, int threads)
    {
        using var pool = new WorkerPool(threads);
        int seed = 100;
        // Around the K block (equal blocks of at most GemmBlocking.Kc = 384, rounded up to 8): one, two and three blocks.
        foreach (int k in new[] { 255, 256, 257, 383, 384, 385, 513, 769, 1155 })
            Check(isa, pool, "PackedA", false, false, 25, 40, k, 1, 0, default, seed++);
        Check(isa, pool, "Multiply", false, false, 13, 33, 1155, 1, 0.5f, default, seed++);
        Check(isa, pool, "PackedB", false, false, 14, 530, 70, 1, 0, default, seed++);
        Check(isa, pool, "Multiply", false, false, 3, 1041, 20, 1, 0, default, seed++);
        Check(isa, pool, "PackedB", false, false, 1, 1000, 300, 1, 0, default, seed++); // GEMV-like
        // A tall A packed on the fly takes the wide N block (1024 columns): two wide blocks and a tail, B either way round.
        Check(isa, pool, "Multiply", false, false, 197, 1100, 390, 1, 0.5f, default, seed++);
        Check(isa, pool, "Multiply", true, true, 193, 1041, 40, 1, 0, default, seed++);
        // A prepacked B past half of L2 with a small A (split over N on 2 threads), A also transposed (the pixel-rows path).
        Check(isa, pool, "PackedB", false, false, 25, 520, 300, 1, 0, default, seed++);
        Check(isa, pool, "PackedB", true, false, 30, 530, 301, 1, 0.5f, default, seed++);
        // An M just past a multiple of the panel height (49 = 4·12 + 1, 61 = 5·12 + 1): an A packed on the fly is cut
        // into even panels, packed from either layout; ResNet's 7×7 layer4 as pixel rows is the transposed case.
        Check(isa, pool, "PackedB", true, false, 49, 96, 777, 1, 0, default, seed++);
        Check(isa, pool, "Multiply", false, false, 49, 50, 400, 1, 0.5f, default, seed++);
        Check(isa, pool, "Multiply", true, false, 61, 40, 130, 1, 0, default, seed++);
        // A short A (up to 24 panels, in one block, packed on the fly or prepacked) reads B's full 32-column slices
        // in place and packs only the tail slice: both, over two K blocks, and a B row stride of exactly 4 KiB.
        Check(isa, pool, "PackedA", false, false, 250, 70, 400, 1, 0, default, seed++);
        Check(isa, pool, "Multiply", false, false, 150, 96, 390, 1, 0.5f, default, seed++);
        Check(isa, pool, "Multiply", false, false, 281, 75, 400, 1, 0.5f, default, seed++);
        Check(isa, pool, "PackedA", false, false, 40, 1024, 50, 1, 0, default, seed++);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TransposesAlphaBeta(IsaLevel isa, int threads)
    {
        using var pool = new WorkerPool(threads);
        int seed = 200;
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-2f, 0.25f) })
        {
            Check(isa, pool, "Multiply", ta, tb, 29, 47, 70, alpha, beta, default, seed++);
            Check(isa, pool, "PackedB", false, tb, 13, 35, 33, alpha, beta, default, seed++);
            Check(isa, pool, "PackedA", ta, false, 27, 18, 65, alpha, beta, default, seed++);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Epilogues(IsaLevel isa, int threads)
    {
        using var pool = new WorkerPool(threads);
        var rnd = new Random(7);
        using var bias = Random(300, rnd);
        int m = 19, n = 37, k = 300; // one K block: the epilogue on the tile straight from the accumulators
        using var residual = Random((long)m * (n + 4), rnd);
        var activations = new[]
        {
            Activation.None, Activation.Relu, Activation.Clip(-0.3f, 0.4f), Activation.LeakyRelu(0.1f),
            new Activation(ActivationKind.Sigmoid), new Activation(ActivationKind.Tanh),
        };
        int seed = 300;
        foreach (var act in activations)
        foreach (var biasKind in new[] { BiasKind.None, BiasKind.PerRow, BiasKind.PerColumn })
        foreach (bool withResidual in new[] { false, true })
        {
            var epi = new GemmEpilogue
            {
                Bias = biasKind == BiasKind.None ? null : bias.Floats, BiasKind = biasKind,
                Residual = withResidual ? residual.Floats : null, ResidualStride = n + 4, Activation = act,
            };
            foreach (string api in new[] { "Multiply", "PackedB", "PackedA" })
                Check(isa, pool, api, false, false, m, n, k, 1, api == "Multiply" ? 0.5f : 0f, epi, seed++);
        }
        // Three K blocks (the epilogue must run once, on the last, after adding the earlier blocks' sums), with the
        // convolution's epilogues: per-row bias, residual, ReLU or none.
        foreach (var act in new[] { Activation.None, Activation.Relu })
        foreach (bool withResidual in new[] { false, true })
        {
            var epi = new GemmEpilogue
            {
                Bias = bias.Floats, BiasKind = BiasKind.PerRow, Residual = withResidual ? residual.Floats : null, ResidualStride = n + 4, Activation = act,
            };
            foreach (string api in new[] { "Multiply", "PackedA" })
                Check(isa, pool, api, false, false, m, n, 800, 1, 0f, epi, seed++);
        }
    }

    [Fact]
    public void ResultsAreBitIdenticalForAnyThreadCount()
    {
        var rnd = new Random(11);
        int m = 100, n = 700, k = 600;
        using var a = Random((long)m * k, rnd);
        using var b = Random((long)k * n, rnd);
        using var c1 = new AlignedBuffer((long)m * n * 4);
        using var c2 = new AlignedBuffer((long)m * n * 4);
        using var pool1 = new WorkerPool(1);
        using var pool2 = new WorkerPool(2);
        using var pool3 = new WorkerPool(3);
        Sgemm.Multiply(false, false, m, n, k, 1, a.Floats, k, b.Floats, n, 0, c1.Floats, n, default, pool1);
        Sgemm.Multiply(false, false, m, n, k, 1, a.Floats, k, b.Floats, n, 0, c2.Floats, n, default, pool2);
        AssertEqual(c1.Floats, c2.Floats, (long)m * n, "1 vs 2 threads");
        Sgemm.Multiply(false, false, m, n, k, 1, a.Floats, k, b.Floats, n, 0, c2.Floats, n, default, pool3);
        AssertEqual(c1.Floats, c2.Floats, (long)m * n, "1 vs 3 threads");
    }

    [Fact]
    public void NoAllocationPerCallAfterWarmUp()
    {
        var rnd = new Random(12);
        int m = 64, n = 300, k = 290;
        using var a = Random((long)m * k, rnd);
        using var b = Random((long)k * n, rnd);
        using var c = new AlignedBuffer((long)m * n * 4);
        using var pool = new WorkerPool(2);
        using var pb = Sgemm.PackB(false, k, n, b.Floats, n);
        using var pa = Sgemm.PackA(false, m, k, a.Floats, k);
        var epi = new GemmEpilogue { Activation = Activation.Relu };
        for (int i = 0; i < 3; i++)
        {
            Sgemm.MultiplyPacked(m, n, k, 1, a.Floats, k, pb, 0, c.Floats, n, epi, pool);
            Sgemm.MultiplyPackedA(pa, n, b.Floats, n, c.Floats, n, epi, pool);
            Sgemm.Multiply(false, true, m, n, k, 1, a.Floats, k, b.Floats, k, 0, c.Floats, n, epi, pool);
        }
        // Over windows without a garbage collection (AllocationMeter): one from other test classes can show as a few KB.
        long bytes = AllocationMeter.MeasureClean(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                Sgemm.MultiplyPacked(m, n, k, 1, a.Floats, k, pb, 0, c.Floats, n, epi, pool);
                Sgemm.MultiplyPackedA(pa, n, b.Floats, n, c.Floats, n, epi, pool);
                Sgemm.Multiply(false, true, m, n, k, 1, a.Floats, k, b.Floats, k, 0, c.Floats, n, epi, pool);
            }
        }, attempts: 50);
        Assert.Equal(0, bytes);
    }
}
