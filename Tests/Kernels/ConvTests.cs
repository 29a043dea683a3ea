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
/// Every convolution path (im2col + GEMM, direct 1×1, strided 1×1 gather, depthwise) on every ISA tier,
/// 1 and 2 threads, against the scalar reference, with bias, residual and activation fused. Tolerance:
/// the project's fp32 default, rtol 1e-3 / atol 1e-4, on inputs in [−1, 1] and ResNet-like filter scale.
/// </summary>
public unsafe class ConvTests
{
    public static IEnumerable<object[]> Cases() => IsaAndThreads();

    private static ConvShape Shape(int c, int h, int w, int m, int k, int stride = 1, int pad = 0, int dil = 1, int group = 1, int batch = 1, int kw = -1) => new()
    {
        Batch = batch, InChannels = c, InHeight = h, InWidth = w, OutChannels = m,
        KernelHeight = k, KernelWidth = kw < 0 ? k : kw, StrideHeight = stride, StrideWidth = stride,
        DilationHeight = dil, DilationWidth = dil, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad, Group = group,
    };

    private static readonly ConvShape[] Shapes =
    [
        Shape(16, 9, 11, 24, 1),                    // pointwise: no im2col
        Shape(13, 10, 7, 20, 1, stride: 2),         // strided 1×1: gather
        Shape(8, 13, 15, 17, 3, pad: 1),            // 3×3 s1
        Shape(7, 15, 12, 9, 3, stride: 2, pad: 1),  // 3×3 s2
        Shape(3, 23, 21, 16, 7, stride: 2, pad: 3), // ResNet stem-like 7×7 s2 p3
        Shape(12, 11, 11, 12, 3, pad: 1, group: 12),            // depthwise
        Shape(10, 14, 9, 10, 3, stride: 2, pad: 1, group: 10),  // depthwise s2
        Shape(6, 12, 13, 6, 5, pad: 2, group: 6, dil: 2),       // depthwise dilated
        Shape(6, 13, 12, 9, 3, pad: 2, dil: 2),     // dilation
        Shape(12, 9, 10, 18, 3, pad: 1, group: 3),  // groups
        Shape(4, 5, 6, 70, 3, pad: 0, batch: 2),    // batch, M past a K block boundary
        Shape(300, 4, 5, 8, 1),                     // K = 300 > KC
        Shape(5, 6, 7, 3, 2, kw: 3, pad: 0),        // non-square kernel
        Shape(3, 9, 75, 8, 7, stride: 2, pad: 3),   // stride-2 rows wide enough for the vector gather, odd width
        Shape(5, 4, 70, 17, 1, stride: 2),          // strided 1×1 over a wide row
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference(IsaLevel isa, int threads)
    {
        using var scope = KernelIsa.Override(isa);
        using var pool = new WorkerPool(threads);
        var rnd = new Random(5);
        foreach (var s in Shapes)
        foreach (bool fused in new[] { false, true })
        {
            long xCount = (long)s.Batch * s.InChannels * s.InHeight * s.InWidth;
            long yCount = (long)s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
            float wScale = (float)Math.Sqrt(2.0 / s.KernelSize); // He-initialised magnitudes
            using var x = Random(xCount, rnd);
            using var w = Random((long)s.OutChannels * s.KernelSize, rnd, wScale);
            using var bias = Random(s.OutChannels, rnd);
            using var residual = Random(yCount, rnd);
            using var want = new AlignedBuffer(yCount * 4);
            using var got = new AlignedBuffer(yCount * 4);
            using var weights = new ConvWeights(s.OutChannels, s.InChannelsPerGroup, s.KernelHeight, s.KernelWidth, s.Group, w.Floats, fused ? bias.Floats : null);
            using var ws = new AlignedBuffer(Conv2D.WorkspaceBytes(s));
            var act = fused ? Activation.Relu : Activation.None;
            float* res = fused ? residual.Floats : null;
            ConvReference.Run(s, x.Floats, w.Floats, fused ? bias.Floats : null, res, act, want.Floats);
            Conv2D.Run(s, weights, x.Floats, got.Floats, res, act, ws.Floats, pool);
            AssertClose(want.Floats, got.Floats, yCount, 1e-3, 1e-4, $"{isa} t{threads} {s} fused={fused}");
        }
    }

    /// <summary>
    /// The direct path for first layers (few input channels, stride 1 or 2): edges padded and not, widths that are not
    /// a multiple of 16, channel counts that leave a partial 16-channel block, batches, 1 and 2 threads.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DirectSmallPathMatchesReference(int threads)
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return; // AVX-512 only; the GEMM paths cover the rest
        using var pool = new WorkerPool(threads);
        var rnd = new Random(9);
        ConvShape[] shapes =
        [
            Shape(3, 40, 37, 32, 3),                     // the seed CNN's layer, valid padding
            Shape(3, 19, 45, 20, 3, pad: 1),             // same padding, partial channel block
            Shape(1, 28, 28, 8, 5, pad: 2, batch: 2),    // gray image, 5×5
            Shape(2, 17, 16, 33, 3, kw: 1),              // 3×1 kernel, one full vector per row
            Shape(7, 9, 70, 16, 3, pad: 2),              // padding wider than the kernel's reach on one side
            Shape(3, 30, 75, 24, 7, stride: 2, pad: 3),  // ResNet's stem: 7×7 stride 2 (147 taps), odd width
            Shape(4, 15, 40, 16, 3, stride: 2, pad: 1),  // stride 2, RGBA
            Shape(3, 21, 34, 16, 5, stride: 2, pad: 2, batch: 2), // stride 2 over a batch: each image's column phases
        ];
        foreach (var s in shapes)
        foreach (bool fused in new[] { false, true })
        {
            Assert.Equal(ConvAlgorithm.DirectSmall, Conv2D.Choose(s, allowWinograd: true));
            CheckPath(s, ConvAlgorithm.DirectSmall, fused, pool, rnd, $"direct small t{threads}");
        }
    }

    /// <summary>The pixel-rows (transposed) GEMM path for small images with many channels, every ISA and thread count.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void PixelRowsPathMatchesReference(IsaLevel isa, int threads)
    {
        using var scope = KernelIsa.Override(isa);
        using var pool = new WorkerPool(threads);
        var rnd = new Random(8);
        ConvShape[] shapes =
        [
            Shape(65, 7, 7, 64, 3, pad: 1),
            Shape(17, 14, 14, 80, 3, stride: 2, pad: 1),
            Shape(33, 8, 8, 96, 1, stride: 2),
            Shape(3, 1, 1, 64, 3, pad: 1, batch: 2),
            Shape(300, 5, 3, 128, 3, pad: 1),
            Shape(129, 6, 5, 80, 3, pad: 1, batch: 2), // depth split 64 + 65 channels (K = 1161), batch
        ];
        foreach (var s in shapes)
        {
            Assert.Equal(ConvAlgorithm.PixelRowsGemm, Conv2D.Choose(s, allowWinograd: false));
            CheckPath(s, ConvAlgorithm.PixelRowsGemm, fused: true, pool, rnd, $"pixel rows {isa} t{threads}");
        }
    }

    /// <summary>
    /// A first layer with a fused stride-2 max pool (ResNet's stem and 3×3 pool, the seed CNN's 2×2), computed a few conv
    /// rows at a time and pooled from per-thread scratch, against the scalar convolution and pooling references: stride
    /// 1 and 2, every pad of a 3×3 pool from 0 to 2 (ResNet's [1,1,0,0] among them), asymmetric conv padding as in the
    /// ResNet-18 model, odd sizes (a 2×2 pool dropping the last row and column), a partial channel block, a batch, a
    /// non-monotonic activation, several chunks per band, and one band per thread at 2 threads.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DirectSmallPhasePooledMatchesConvThenPool(int threads)
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        using var workers = new WorkerPool(threads);
        var rnd = new Random(12);
        ConvShape[] shapes =
        [
            Shape(3, 33, 75, 24, 7, stride: 2, pad: 3),
            Shape(3, 46, 46, 64, 7, stride: 2, pad: 3) with { PadBottom = 2, PadRight = 2 },
            Shape(4, 40, 36, 16, 3, stride: 2, pad: 1, batch: 2),
            Shape(3, 32, 32, 32, 3),                      // the seed CNN's first layer
            Shape(3, 19, 45, 20, 3, pad: 1),
            Shape(1, 28, 27, 8, 5, pad: 2, batch: 2),
        ];
        (int Window, int[] Pads)[] pools = [(3, [1, 1, 0, 0]), (3, [1, 1, 1, 1]), (3, [0, 0, 0, 0]), (3, [2, 2, 2, 2]), (3, [0, 2, 1, 0]), (2, [0, 0, 0, 0])];
        foreach (var s in shapes)
        foreach (var (k, pad) in pools)
        // 2×2 with ReLU or none pools in registers (two-row tiles); with a leaky ReLU through conv rows in scratch.
        foreach (var act in k == 2 ? new[] { Activation.LeakyRelu(-0.5f), Activation.Relu, Activation.None }
                     : [pad[0] == 2 ? Activation.LeakyRelu(-0.5f) : Activation.Relu])
        {
            var ps = new FastInfer.Kernels.Pooling.PoolShape
            {
                Planes = s.Batch * s.OutChannels, InHeight = s.OutHeight, InWidth = s.OutWidth,
                OutHeight = (s.OutHeight + pad[0] + pad[2] - k) / 2 + 1, OutWidth = (s.OutWidth + pad[1] + pad[3] - k) / 2 + 1,
                KernelHeight = k, KernelWidth = k, StrideHeight = 2, StrideWidth = 2, DilationHeight = 1, DilationWidth = 1,
                PadTop = pad[0], PadLeft = pad[1], PadBottom = pad[2], PadRight = pad[3],
            };
            Assert.True(DirectSmallConv.CanPoolFromPhases(s, ps), $"{s} {ps}");
            long full = (long)ps.Planes * ps.InHeight * ps.InWidth, pooled = (long)ps.Planes * ps.OutHeight * ps.OutWidth;
            using var x = Random((long)s.Batch * s.InChannels * s.InHeight * s.InWidth, rnd);
            using var w = Random((long)s.OutChannels * s.KernelSize, rnd, (float)Math.Sqrt(2.0 / s.KernelSize));
            using var bias = Random(s.OutChannels, rnd);
            using var conv = new AlignedBuffer(full * 4);
            using var want = new AlignedBuffer(pooled * 4);
            using var got = new AlignedBuffer(pooled * 4);
            using var ws = new AlignedBuffer(DirectSmallConv.WorkspaceBytes(s));
            using var weights = new ConvWeights(s.OutChannels, s.InChannels, s.KernelHeight, s.KernelWidth, 1, w.Floats, bias.Floats);
            weights.PrepareFor(ConvAlgorithm.DirectSmall);
            ConvReference.Run(s, x.Floats, w.Floats, bias.Floats, null, act, conv.Floats);
            FastInfer.Kernels.Pooling.PoolReference.Run(FastInfer.Kernels.Pooling.PoolKind.Max, ps, false, conv.Floats, want.Floats);
            DirectSmallConv.RunPooledFromPhases(s, weights, x.Floats, got.Floats, act, ps, workers, ws.Floats);
            AssertClose(want.Floats, got.Floats, pooled, 1e-3, 1e-4, $"phase-pooled t{threads} {s} {k}x{k} pads [{string.Join(",", pad)}] {act.Kind}");
        }
    }

    /// <summary>
    /// The direct 6-pixel × 64-channel tiles against the scalar reference: stride 2 and 1, asymmetric and no padding,
    /// 5×5 and 1×3 kernels, a pixel count that leaves tails of 1 to 5, 128 channels (two blocks), a batch, fused bias,
    /// residual and ReLU, filters that outweigh the input (split by channels at two threads); then one and two threads
    /// bit for bit.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DirectTilesPathMatchesReference(int threads)
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        using var pool = new WorkerPool(threads);
        var rnd = new Random(13);
        ConvShape[] shapes =
        [
            Shape(64, 56, 56, 128, 3, stride: 2, pad: 1),      // ResNet's layer2.0
            Shape(17, 23, 19, 64, 3, stride: 2, pad: 1, batch: 2),
            Shape(16, 20, 21, 64, 5, stride: 2, pad: 2) with { PadBottom = 0, PadRight = 1 },
            Shape(20, 13, 11, 128, 3, pad: 0),
            Shape(16, 15, 14, 64, 1, kw: 3, pad: 0),
            // Filters 5.8× the padded input: at two threads split by output channels (four blocks), not by rows.
            Shape(64, 18, 18, 256, 3, stride: 2, pad: 1, batch: 2),
        ];
        foreach (var s in shapes)
        {
            Assert.Equal(ConvAlgorithm.DirectTiles, Conv2D.Choose(s, allowWinograd: false));
            CheckPath(s, ConvAlgorithm.DirectTiles, fused: true, pool, rnd, $"direct tiles t{threads}");
            CheckPath(s, ConvAlgorithm.DirectTiles, fused: false, pool, rnd, $"direct tiles t{threads}");
        }
        if (threads != 2) return;
        foreach (var s in shapes) AssertSameForOneAndTwoThreads(s, ConvAlgorithm.DirectTiles, residual: false, rnd, "direct tiles");
    }

    /// <summary>One shape through one algorithm against the scalar reference; fused adds bias, residual and ReLU.</summary>
    internal static void CheckPath(in ConvShape s, ConvAlgorithm algorithm, bool fused, WorkerPool pool, Random rnd, string what)
    {
        long yCount = (long)s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
        using var x = Random((long)s.Batch * s.InChannels * s.InHeight * s.InWidth, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd, (float)Math.Sqrt(2.0 / s.KernelSize));
        using var bias = Random(s.OutChannels, rnd);
        using var residual = Random(yCount, rnd);
        using var want = new AlignedBuffer(yCount * 4);
        using var got = new AlignedBuffer(yCount * 4);
        using var weights = new ConvWeights(s.OutChannels, s.InChannels, s.KernelHeight, s.KernelWidth, 1, w.Floats, fused ? bias.Floats : null);
        weights.PrepareFor(algorithm);
        using var ws = new AlignedBuffer(Conv2D.WorkspaceBytes(s, algorithm));
        var act = fused ? Activation.Relu : Activation.None;
        float* res = fused ? residual.Floats : null;
        ConvReference.Run(s, x.Floats, w.Floats, fused ? bias.Floats : null, res, act, want.Floats);
        Conv2D.Run(s, weights, x.Floats, got.Floats, res, act, ws.Floats, pool, algorithm);
        AssertClose(want.Floats, got.Floats, yCount, 1e-3, 1e-4, $"{what} {s} fused={fused}");
    }

    /// <summary>
    /// At 2 threads im2col convolutions run as one band of output rows per thread, each unfolding into its own scratch
    /// and multiplying there (groups, batch, residual and stride 2 included): bit for bit what one thread computes.
    /// </summary>
    [Fact]
    public void BandsGiveTheSameResultForOneAndTwoThreads()
    {
        var rnd = new Random(21);
        foreach (var s in new[] { Shape(12, 20, 17, 18, 3, pad: 1, group: 3, batch: 2), Shape(9, 31, 30, 16, 3, stride: 2, pad: 1), Shape(8, 24, 26, 12, 1, stride: 2) })
            AssertSameForOneAndTwoThreads(s, null, residual: true, rnd, "bands");
    }

    /// <summary>
    /// Pixel-rows convolutions split by output channels (small K) or into two depth halves summed in a fixed order
    /// (K ≥ 1024) give bit for bit the same result on one thread and on two.
    /// </summary>
    [Fact]
    public void PixelRowsGiveTheSameResultForOneAndTwoThreads()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        var rnd = new Random(22);
        foreach (var s in new[] { Shape(129, 7, 7, 64, 3, pad: 1), Shape(40, 8, 8, 96, 1, stride: 2), Shape(256, 14, 14, 128, 3, stride: 2, pad: 1) })
        {
            Assert.Equal(ConvAlgorithm.PixelRowsGemm, Conv2D.Choose(s, allowWinograd: false));
            AssertSameForOneAndTwoThreads(s, ConvAlgorithm.PixelRowsGemm, residual: true, rnd, "pixel rows");
        }
    }

    /// <summary>One convolution (an algorithm, or null for the default im2col path) on one thread and on two: bit for bit equal.</summary>
    internal static void AssertSameForOneAndTwoThreads(in ConvShape s, ConvAlgorithm? algorithm, bool residual, Random rnd, string what)
    {
        using var p1 = new WorkerPool(1);
        using var p2 = new WorkerPool(2);
        long yCount = (long)s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
        using var x = Random((long)s.Batch * s.InChannels * s.InHeight * s.InWidth, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd, 0.3f);
        using var bias = Random(s.OutChannels, rnd);
        using var res = Random(yCount, rnd);
        using var y1 = new AlignedBuffer(yCount * 4);
        using var y2 = new AlignedBuffer(yCount * 4);
        using var weights = new ConvWeights(s.OutChannels, s.InChannelsPerGroup, s.KernelHeight, s.KernelWidth, s.Group, w.Floats, bias.Floats);
        float* r = residual ? res.Floats : null;
        if (algorithm is { } a)
        {
            weights.PrepareFor(a);
            using var wsa = new AlignedBuffer(Math.Max(64, Conv2D.WorkspaceBytes(s, a)));
            Conv2D.Run(s, weights, x.Floats, y1.Floats, r, Activation.Relu, wsa.Floats, p1, a);
            Conv2D.Run(s, weights, x.Floats, y2.Floats, r, Activation.Relu, wsa.Floats, p2, a);
        }
        else
        {
            using var ws = new AlignedBuffer(Math.Max(64, Conv2D.WorkspaceBytes(s)));
            Conv2D.Run(s, weights, x.Floats, y1.Floats, r, Activation.Relu, ws.Floats, p1);
            Conv2D.Run(s, weights, x.Floats, y2.Floats, r, Activation.Relu, ws.Floats, p2);
        }
        AssertEqual(y1.Floats, y2.Floats, yCount, $"{what} 1 vs 2 threads {s}");
    }

    [Fact]
    public void NoAllocationPerRunAfterWarmUp()
    {
        var s = Shape(16, 14, 14, 32, 3, pad: 1);
        var rnd = new Random(9);
        using var x = Random((long)s.InChannels * 14 * 14, rnd);
        using var w = Random((long)s.OutChannels * s.KernelSize, rnd);
        using var y = new AlignedBuffer((long)s.OutChannels * s.OutHeight * s.OutWidth * 4);
        using var weights = new ConvWeights(s.OutChannels, s.InChannels, 3, 3, 1, w.Floats, null);
        using var ws = new AlignedBuffer(Conv2D.WorkspaceBytes(s));
        using var pool = new WorkerPool(2);
        var dw = Shape(16, 14, 14, 16, 3, pad: 1, group: 16);
        using var dwWeights = new ConvWeights(16, 1, 3, 3, 16, w.Floats, null);
        for (int i = 0; i < 3; i++)
        {
            Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, ws.Floats, pool);
            Conv2D.Run(dw, dwWeights, x.Floats, y.Floats, null, Activation.Relu, null, pool);
        }
        // Over windows without a garbage collection (AllocationMeter): one from other test classes can show as a few KB.
        long bytes = AllocationMeter.MeasureClean(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                Conv2D.Run(s, weights, x.Floats, y.Floats, null, Activation.Relu, ws.Floats, pool);
                Conv2D.Run(dw, dwWeights, x.Floats, y.Floats, null, Activation.Relu, null, pool);
            }
        }, attempts: 50);
        Assert.Equal(0, bytes);
    }
}
