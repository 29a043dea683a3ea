using FastInfer.Kernels.Convolution;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;
using FastInfer.Tests.Support;
using Xunit;
using static FastInfer.Tests.Kernels.KernelTestUtil;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) and F(2×2, 3×3) against the scalar convolution reference: odd image sizes (tile and
/// 16-tile-chunk edges), odd channel counts (GEMM tails, partial 16-channel blocks), padding 0–2, batch, fused
/// bias/residual/ReLU, 1 and 2 threads; results bit-identical across thread counts; no allocation per run.
/// Tolerance: the project's fp32 default, rtol 1e-3 / atol 1e-4, with He-scaled filters and inputs in [−1, 1].
/// </summary>
public unsafe class WinogradTests
{
    private static ConvShape Shape(int c, int h, int w, int m, int pad = 1, int batch = 1) => new()
    {
        Batch = batch, InChannels = c, InHeight = h, InWidth = w, OutChannels = m, KernelHeight = 3, KernelWidth = 3,
        StrideHeight = 1, StrideWidth = 1, DilationHeight = 1, DilationWidth = 1,
        PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad, Group = 1,
    };

    private static readonly ConvShape[] Shapes =
    [
        Shape(1, 3, 3, 1),
        Shape(3, 17, 17, 5),
        Shape(16, 14, 14, 16),
        Shape(17, 63, 65, 3, pad: 0),  // 16 tile rows of 16: at 2 threads one part per thread (8 + 8 rows)
        Shape(65, 9, 70, 63),          // more than 16 tiles across: a full chunk and a partial one
        Shape(64, 28, 28, 128),
        Shape(8, 5, 7, 13, pad: 2, batch: 2),
        Shape(300, 7, 7, 20),          // C past the GEMM's K block
        Shape(2, 1, 1, 2),
        Shape(5, 33, 40, 7, batch: 2), // 9 tile rows of 10
        Shape(6, 80, 28, 9),           // 20 tile rows of 7, grouped 2 per vector: parts of 5 groups each
    ];

    public static IEnumerable<object[]> Threads() => [[1], [2]];

    [Theory]
    [MemberData(nameof(Threads))]
    public void MatchesReference(int threads)
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return; // the path needs AVX-512 F
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        using var pool = new WorkerPool(threads);
        var rnd = new Random(17);
        foreach (var s in Shapes)
        {
            Assert.True(WinogradF43.IsSupported(s));
            foreach (bool fused in new[] { false, true })
                ConvTests.CheckPath(s, ConvAlgorithm.Winograd, fused, pool, rnd, $"winograd t{threads}");
        }
    }

    [Fact]
    public void SameResultForOneAndTwoThreads()
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        // 12 × 12 tiles: split into one part per thread at 2 threads.
        ConvTests.AssertSameForOneAndTwoThreads(Shape(33, 46, 46, 40), ConvAlgorithm.Winograd, residual: false, new Random(3), "winograd");
    }

    [Fact]
    public void NoAllocationPerRunAfterWarmUp() => AssertNoAllocationPerRun(Shape(16, 20, 20, 32), ConvAlgorithm.Winograd);

    /// <summary>Ten runs on two threads after three warm-up runs allocate nothing.</summary>
    private static void AssertNoAllocationPerRun(ConvShape s, ConvAlgorithm algorithm)
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        var rnd = new Random(9);
        using var x = Random((long)s.InChannels * s.InHeight * s.InWidth, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd);
        using var y = new AlignedBuffer((long)s.OutChannels * s.OutHeight * s.OutWidth * 4);
        using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, null);
        weights.PrepareFor(algorithm);
        using var ws = new AlignedBuffer(Math.Max(64, Conv2D.WorkspaceBytes(s, algorithm)));
        using var pool = new WorkerPool(2);
        for (int i = 0; i < 3; i++) Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, ws.Floats, pool, algorithm);
        // Over windows without a garbage collection: one triggered by other test classes can retire this thread's
        // allocation context mid-window and show as a few KB allocated (AllocationMeter).
        long bytes = AllocationMeter.MeasureClean(() =>
        {
            for (int i = 0; i < 10; i++) Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, ws.Floats, pool, algorithm);
        }, attempts: 50);
        Assert.Equal(0, bytes);
    }

    private static readonly ConvShape[] F23Shapes =
    [
        Shape(64, 7, 7, 64),             // ResNet's 7×7 stage, scaled down: 16 tiles, one vector
        Shape(65, 5, 9, 48),             // odd channels (GEMM tails), 3×5 tiles, an odd last row and column
        Shape(70, 7, 9, 32, pad: 2),     // pad 2: 9×11 outputs, 30 tiles (two vectors, the second partial)
        Shape(40, 10, 10, 80, pad: 0),   // no padding: 8×8 outputs, the input's last row and column read
        Shape(300, 7, 7, 64),            // C past the GEMM's K block
        Shape(16, 4, 4, 16, batch: 2),   // batch; one 16-channel block (a single part at 2 threads)
        Shape(33, 15, 15, 96),           // 64 tiles, the most it takes
    ];

    [Theory]
    [MemberData(nameof(Threads))]
    public void F23MatchesReference(int threads)
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        using var pool = new WorkerPool(threads);
        var rnd = new Random(23);
        foreach (var s in F23Shapes)
        foreach (bool fused in new[] { false, true })
            ConvTests.CheckPath(s, ConvAlgorithm.WinogradF23, fused, pool, rnd, $"winograd F23 t{threads}");
    }

    /// <summary>Where F(4×4, 3×3) has 16 tiles or fewer (7×7 and 14×14 images), the 3×3 layers of many channels take F(2×2, 3×3); off without Winograd.</summary>
    [Fact]
    public void F23ChosenForSmallImagesWithManyChannels()
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        Assert.Equal(ConvAlgorithm.WinogradF23, Conv2D.Choose(Shape(512, 7, 7, 512), allowWinograd: true));
        Assert.NotEqual(ConvAlgorithm.WinogradF23, Conv2D.Choose(Shape(512, 7, 7, 512), allowWinograd: false));
        Assert.Equal(ConvAlgorithm.WinogradF23, Conv2D.Choose(Shape(256, 14, 14, 256), allowWinograd: true));
        Assert.Equal(ConvAlgorithm.Winograd, Conv2D.Choose(Shape(128, 28, 28, 128), allowWinograd: true));
        Assert.Equal(ConvAlgorithm.Winograd, Conv2D.Choose(Shape(32, 14, 14, 32), allowWinograd: true));
        Assert.NotEqual(ConvAlgorithm.WinogradF23, Conv2D.Choose(Shape(512, 7, 7, 500), allowWinograd: true));
    }

    [Fact]
    public void F23SameResultForOneAndTwoThreads()
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        // 10 channel blocks: 5 per part.
        ConvTests.AssertSameForOneAndTwoThreads(Shape(96, 7, 7, 160), ConvAlgorithm.WinogradF23, residual: true, new Random(5), "winograd F23");
    }

    [Fact]
    public void F23NoAllocationPerRunAfterWarmUp() => AssertNoAllocationPerRun(Shape(64, 7, 7, 64), ConvAlgorithm.WinogradF23);
}
