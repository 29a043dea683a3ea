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
/// Winograd F(4×4, 3×3) against the scalar convolution reference: odd image sizes (tile and 16-tile-chunk
/// edges), odd channel counts (GEMM tails), padding 0–2, batch, fused bias/residual/ReLU, 1 and 2 threads.
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
        foreach (bool fused in new[] { false, true })
        {
            Assert.True(WinogradF43.IsSupported(s));
            long xCount = (long)s.Batch * s.InChannels * s.InHeight * s.InWidth;
            long yCount = (long)s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
            using var x = Random(xCount, rnd);
            using var w = Random((long)s.OutChannels * s.KernelSize, rnd, (float)Math.Sqrt(2.0 / s.KernelSize));
            using var bias = Random(s.OutChannels, rnd);
            using var residual = Random(yCount, rnd);
            using var want = new AlignedBuffer(yCount * 4);
            using var got = new AlignedBuffer(yCount * 4);
            using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, fused ? bias.Floats : null);
            weights.PrepareWinograd();
            using var ws = new AlignedBuffer(Conv2D.WorkspaceBytes(s, ConvAlgorithm.Winograd));
            var act = fused ? Activation.Relu : Activation.None;
            float* res = fused ? residual.Floats : null;
            ConvReference.Run(s, x.Floats, w.Floats, fused ? bias.Floats : null, res, act, want.Floats);
            Conv2D.Run(s, weights, x.Floats, got.Floats, res, act, ws.Floats, pool, ConvAlgorithm.Winograd);
            AssertClose(want.Floats, got.Floats, yCount, 1e-3, 1e-4, $"winograd t{threads} {s} fused={fused}");
        }
    }

    [Fact]
    public void SameResultForOneAndTwoThreads()
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        var s = Shape(33, 46, 46, 40); // 12 × 12 tiles: split into one part per thread at 2 threads
        var rnd = new Random(3);
        long yCount = (long)s.OutChannels * s.OutHeight * s.OutWidth;
        using var x = Random((long)s.InChannels * s.InHeight * s.InWidth, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd, 0.2f);
        using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, null);
        weights.PrepareWinograd();
        using var ws = new AlignedBuffer(Conv2D.WorkspaceBytes(s, ConvAlgorithm.Winograd));
        using var y1 = new AlignedBuffer(yCount * 4);
        using var y2 = new AlignedBuffer(yCount * 4);
        using var p1 = new WorkerPool(1);
        using var p2 = new WorkerPool(2);
        Conv2D.Run(s, weights, x.Floats, y1.Floats, null, Activation.None, ws.Floats, p1, ConvAlgorithm.Winograd);
        Conv2D.Run(s, weights, x.Floats, y2.Floats, null, Activation.None, ws.Floats, p2, ConvAlgorithm.Winograd);
        AssertEqual(y1.Floats, y2.Floats, yCount, "winograd 1 vs 2 threads");
    }

    [Fact]
    public void NoAllocationPerRunAfterWarmUp()
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        var s = Shape(16, 20, 20, 32);
        var rnd = new Random(9);
        using var x = Random((long)s.InChannels * 20 * 20, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd);
        using var y = new AlignedBuffer((long)s.OutChannels * s.OutHeight * s.OutWidth * 4);
        using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, null);
        weights.PrepareWinograd();
        using var ws = new AlignedBuffer(Conv2D.WorkspaceBytes(s, ConvAlgorithm.Winograd));
        using var pool = new WorkerPool(2);
        for (int i = 0; i < 3; i++) Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, ws.Floats, pool, ConvAlgorithm.Winograd);
        // Over windows without a garbage collection: one triggered by other test classes can retire this thread's
        // allocation context mid-window and show as a few KB allocated (AllocationMeter).
        long bytes = AllocationMeter.MeasureClean(() =>
        {
            for (int i = 0; i < 10; i++) Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, ws.Floats, pool, ConvAlgorithm.Winograd);
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
        {
            long yCount = (long)s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
            using var x = Random((long)s.Batch * s.InChannels * s.InHeight * s.InWidth, rnd);
            using var w = Random((long)s.OutChannels * s.KernelSize, rnd, (float)Math.Sqrt(2.0 / s.KernelSize));
            using var bias = Random(s.OutChannels, rnd);
            using var residual = Random(yCount, rnd);
            using var want = new AlignedBuffer(yCount * 4);
            using var got = new AlignedBuffer(yCount * 4);
            using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, fused ? bias.Floats : null);
            weights.PrepareWinogradF23();
            var act = fused ? Activation.Relu : Activation.None;
            float* res = fused ? residual.Floats : null;
            ConvReference.Run(s, x.Floats, w.Floats, fused ? bias.Floats : null, res, act, want.Floats);
            Conv2D.Run(s, weights, x.Floats, got.Floats, res, act, null, pool, ConvAlgorithm.WinogradF23);
            AssertClose(want.Floats, got.Floats, yCount, 1e-3, 1e-4, $"winograd F23 t{threads} {s} fused={fused}");
        }
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
        var s = Shape(96, 7, 7, 160); // 10 channel blocks: 5 per part
        var rnd = new Random(5);
        long yCount = (long)s.OutChannels * s.OutHeight * s.OutWidth;
        using var x = Random((long)s.InChannels * s.InHeight * s.InWidth, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd, 0.2f);
        using var bias = Random(s.OutChannels, rnd);
        using var residual = Random(yCount, rnd);
        using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, bias.Floats);
        weights.PrepareWinogradF23();
        using var y1 = new AlignedBuffer(yCount * 4);
        using var y2 = new AlignedBuffer(yCount * 4);
        using var p1 = new WorkerPool(1);
        using var p2 = new WorkerPool(2);
        Conv2D.Run(s, weights, x.Floats, y1.Floats, residual.Floats, Activation.Relu, null, p1, ConvAlgorithm.WinogradF23);
        Conv2D.Run(s, weights, x.Floats, y2.Floats, residual.Floats, Activation.Relu, null, p2, ConvAlgorithm.WinogradF23);
        AssertEqual(y1.Floats, y2.Floats, yCount, "winograd F23 1 vs 2 threads");
    }

    [Fact]
    public void F23NoAllocationPerRunAfterWarmUp()
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        using var scope = KernelIsa.Override(IsaLevel.Avx512);
        var s = Shape(64, 7, 7, 64);
        var rnd = new Random(9);
        using var x = Random((long)s.InChannels * 49, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd);
        using var y = new AlignedBuffer((long)s.OutChannels * 49 * 4);
        using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, null);
        weights.PrepareWinogradF23();
        using var pool = new WorkerPool(2);
        for (int i = 0; i < 3; i++) Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, null, pool, ConvAlgorithm.WinogradF23);
        long bytes = AllocationMeter.MeasureClean(() =>
        {
            for (int i = 0; i < 10; i++) Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, null, pool, ConvAlgorithm.WinogradF23);
        }, attempts: 50);
        Assert.Equal(0, bytes);
    }
}
