using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// 2-D convolution over NCHW: per image and group, im2col into the caller's workspace (from the plan's
/// arena; at 2+ threads per band of output rows into each thread's own scratch), then one packed GEMM W[M/g × K]·col[K × OH·OW] whose epilogue adds the bias and residual and
/// applies the activation. Paths, chosen per shape:
/// <list type="bullet">
/// <item>depthwise (group = C = M): direct, vectorized along the output row, no workspace;</item>
/// <item>1×1 stride 1, no padding: no im2col, the input already is the column matrix;</item>
/// <item>everything else (strided 1×1 included, where im2col is a plain gather): im2col + packed GEMM;</item>
/// <item>3×3 stride 1, when Winograd is allowed: <see cref="WinogradF43"/> (<see cref="ConvAlgorithm.Winograd"/>), or on
/// small images (ResNet's 14×14 and 7×7) <see cref="WinogradF23"/> (<see cref="ConvAlgorithm.WinogradF23"/>);</item>
/// <item>few input channels, stride 1 (a first layer): <see cref="DirectSmallConv"/>, no im2col;</item>
/// <item>many channels in blocks of 64 where Winograd does not apply (stride 2): <see cref="DirectTileConv"/>, no im2col.</item>
/// </list>
/// </summary>
public static unsafe class Conv2D
{
    /// <summary>
    /// The algorithm for this shape: Winograd where allowed, supported on the current ISA tier and expected
    /// to win (<see cref="WinogradF43.IsProfitable"/>), else the GEMM-based paths.
    /// </summary>
    public static ConvAlgorithm Choose(in ConvShape s, bool allowWinograd)
    {
        if (DirectSmallConv.Applies(s)) return ConvAlgorithm.DirectSmall;
        if (allowWinograd && WinogradF23.IsProfitable(s)) return ConvAlgorithm.WinogradF23;
        if (allowWinograd && WinogradF43.IsProfitable(s)) return ConvAlgorithm.Winograd;
        if (DirectTileConv.Applies(s)) return ConvAlgorithm.DirectTiles;
        if (UsesPixelRows(s)) return ConvAlgorithm.PixelRowsGemm;
        return ConvAlgorithm.Gemm;
    }

    /// <summary>
    /// Few output pixels (a GEMM N below two 32-column tiles leaves lanes idle) but many output channels: the
    /// transposed product fills every lane along the channels instead.
    /// </summary>
    private static bool UsesPixelRows(in ConvShape s) =>
        s.Group == 1 && !s.IsPointwise && s.OutHeight * s.OutWidth <= 64 && s.OutChannels >= 64 && s.OutChannels % 16 == 0;

    /// <summary>Scratch bytes <see cref="Run(in ConvShape, ConvWeights, float*, float*, float*, Activation, float*, WorkerPool, ConvAlgorithm)"/> needs.</summary>
    public static long WorkspaceBytes(in ConvShape s, ConvAlgorithm algorithm) => algorithm switch
    {
        ConvAlgorithm.Winograd => WinogradF43.WorkspaceBytes(s),
        ConvAlgorithm.DirectSmall => DirectSmallConv.WorkspaceBytes(s),
        ConvAlgorithm.DirectTiles => 0,
        ConvAlgorithm.WinogradF23 => 0,
        ConvAlgorithm.PixelRowsGemm => WorkspaceBytes(s) + 2 * PixelRowsPartial(s) * sizeof(float),
        _ => WorkspaceBytes(s),
    };

    /// <summary>Runs with a chosen algorithm; Winograd needs <see cref="ConvWeights.PrepareWinograd"/> first.</summary>
    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation,
        float* workspace, WorkerPool pool, ConvAlgorithm algorithm)
    {
        if (algorithm == ConvAlgorithm.Winograd) WinogradF43.Run(s, weights, x, y, residual, activation, workspace, pool);
        else if (algorithm == ConvAlgorithm.DirectSmall) DirectSmallConv.Run(s, weights, x, y, residual, activation, pool, workspace);
        else if (algorithm == ConvAlgorithm.DirectTiles) DirectTileConv.Run(s, weights, x, y, residual, activation, pool);
        else if (algorithm == ConvAlgorithm.WinogradF23) WinogradF23.Run(s, weights, x, y, residual, activation, pool);
        else if (algorithm == ConvAlgorithm.PixelRowsGemm) RunPixelRows(s, weights, x, y, residual, activation, workspace, pool);
        else Run(s, weights, x, y, residual, activation, workspace, pool);
    }

    /// <summary>im2col, then Yᵀ[P×M] = colᵀ·Wᵀ (A read transposed, Wᵀ prepacked), then transposed back with the epilogue.</summary>
    private static void RunPixelRows(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation,
        float* workspace, WorkerPool pool)
    {
        var wt = weights.TransposedFilters ?? throw new InvalidOperationException("ConvWeights.PrepareTransposed was not called for this convolution.");
        int spatial = s.OutHeight * s.OutWidth, m = s.OutChannels, k = s.KernelSize;
        int parts = PixelRowParts(m, pool.Concurrency);
        float* col = workspace;
        float* yt = workspace + (long)k * spatial;
        for (int n = 0; n < s.Batch; n++)
        {
            float* xn = x + (long)n * s.InChannels * s.InHeight * s.InWidth;
            var back = new PixelRowsBack
            {
                Yt = yt, Y = y + (long)n * m * spatial, Residual = residual != null ? residual + (long)n * m * spatial : null,
                Bias = weights.Bias != null ? weights.Bias.Floats : null, Activation = activation, Spatial = spatial, Channels = m,
            };
            if (SplitsDepth(s))
            {
                // Two halves of the input channels, each a product over its half of K into a partial Yᵀ; the
                // transpose back sums them (always in this order, so the result does not depend on the thread count).
                var halves = new PixelRowsDepthPart { S = s, X = xn, Weights = wt, Partials = yt, PartialFloats = PixelRowsPartial(s) };
                ThreadScratch.For(pool, 2, ref halves, (long)(s.InChannels - s.InChannels / 2) * s.KernelHeight * s.KernelWidth * spatial);
                back.Yt2 = yt + PixelRowsPartial(s);
                pool.For(m / 16, ref back);
                continue;
            }
            if (parts > 1)
            {
                var split = new PixelRowsPart { S = s, X = xn, Weights = wt, Back = back, Parts = parts };
                ThreadScratch.For(pool, parts, ref split, (long)k * spatial + (long)spatial * ((m / 16 + parts - 1) / parts) * 16);
                continue;
            }
            Im2Col.Run(s, xn, col, pool);
            Sgemm.MultiplyPacked(true, spatial, m, k, 1f, col, spatial, wt, 0f, yt, m, default, pool);
            pool.For(m / 16, ref back);
        }
    }

    /// <summary>Whether pixel-rows convolutions split K in two (<see cref="PixelRowsDepthPart"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool SplitPixelRowsByDepth = true;

    /// <summary>
    /// Whether a pixel-rows convolution splits its depth (on the shape alone, so the sum's order never depends on the
    /// thread count): from K = 1024, ResNet's 3×3 layer4 (K = 4608, 2304). The 1×1/2 downsample's K = 256 halves ran
    /// 10% slower on one thread than one product.
    /// </summary>
    private static bool SplitsDepth(in ConvShape s) => SplitPixelRowsByDepth && s.InChannels >= 2 && s.KernelSize >= 1024;

    /// <summary>Floats of one partial Yᵀ (pixels × channels), rounded to whole cache lines.</summary>
    private static long PixelRowsPartial(in ConvShape s) => ((long)s.OutHeight * s.OutWidth * s.OutChannels + 15) & ~15L;

    /// <summary>
    /// Half of a pixel-rows convolution's depth: input channels [0, C/2) for part 0, [C/2, C) for part 1, unfolded into
    /// the thread's own scratch and multiplied by those rows of Wᵀ into its partial Yᵀ. At two threads each thread
    /// unfolds and packs half of the input, where splitting by output channels had both unfold and pack all of it.
    /// </summary>
    private struct PixelRowsDepthPart : IParallelBody
    {
        public ConvShape S;
        public float* X, Partials;
        public PackedMatrix Weights;
        public long PartialFloats;

        public void Invoke(int part)
        {
            int half = S.InChannels / 2, c0 = part == 0 ? 0 : half, c1 = part == 0 ? half : S.InChannels;
            int spatial = S.OutHeight * S.OutWidth, taps = S.KernelHeight * S.KernelWidth, rows = (c1 - c0) * taps;
            float* col = ThreadScratch.Get((long)rows * spatial);
            Im2Col.RunRows(S, X, col, 0, S.OutHeight, c0, c1);
            Sgemm.MultiplyPackedSlice(true, spatial, 0, S.OutChannels, c0 * taps, rows, col, spatial, Weights,
                Partials + part * PartialFloats, S.OutChannels, WorkerPool.Serial);
        }
    }

    /// <summary>Whether pixel-rows convolutions run one part per thread (<see cref="PixelRowsPart"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool SplitPixelRows = true;

    /// <summary>Parts for <see cref="PixelRowsPart"/>: one per thread when each gets at least two 16-channel blocks, else 1.</summary>
    private static int PixelRowParts(int channels, int threads) => SplitPixelRows && threads > 1 && channels / 16 >= 2 * threads ? threads : 1;

    /// <summary>
    /// One thread's share of the output channels of a pixel-rows convolution, all three steps on that thread: it unfolds
    /// the whole input (small: at most 64 pixels) into its own scratch, multiplies it by its slice of Wᵀ, and
    /// transposes its channels back. Split step by step, the column matrix and Yᵀ were each written by one thread and
    /// read by the other; with the host's vCPUs far apart ResNet's 7×7 layers then ran only 1.3× faster on two threads
    /// than on one. Each output's products are the same whatever the split.
    /// </summary>
    private struct PixelRowsPart : IParallelBody
    {
        public ConvShape S;
        public float* X;
        public PackedMatrix Weights;
        public PixelRowsBack Back;
        public int Parts;

        public void Invoke(int part)
        {
            int blocks = S.OutChannels / 16, b0 = blocks * part / Parts, b1 = blocks * (part + 1) / Parts;
            if (b0 >= b1) return;
            int spatial = S.OutHeight * S.OutWidth, k = S.KernelSize, c0 = b0 * 16, cols = (b1 - b0) * 16;
            float* col = ThreadScratch.Get((long)k * spatial + (long)spatial * cols);
            float* yt = col + (long)k * spatial;
            Im2Col.RunRows(S, X, col, 0, S.OutHeight);
            Sgemm.MultiplyPackedSlice(true, spatial, c0, cols, 0, k, col, spatial, Weights, yt, cols, WorkerPool.Serial);
            // Yᵀ holds only this part's channels: rows `cols` apart, channel c0 at column 0.
            var back = Back;
            back.Yt = yt - c0;
            back.Channels = cols;
            for (int b = b0; b < b1; b++) back.Invoke(b);
        }
    }

    /// <summary>
    /// Yᵀ[P×M] back to Y[M×P] for 16 channels per task, 16×16 blocks transposed in registers where AVX-512 is
    /// available, then each channel's bias, residual and activation. Layer4 of ResNet-18 ran this on one thread a
    /// float at a time, about 50 µs of every 7×7 convolution while the other core waited.
    /// </summary>
    private struct PixelRowsBack : IParallelBody
    {
        public float* Yt, Y, Residual, Bias;
        /// <summary>A second partial Yᵀ laid out as <see cref="Yt"/>, added to it first; null when Yt is whole.</summary>
        public float* Yt2;
        public Activation Activation;
        public int Spatial;
        /// <summary>Yᵀ's row stride (all output channels, or one part's); channel c is at Yt[p·Channels + c].</summary>
        public int Channels;

        public void Invoke(int block)
        {
            int mo0 = block * 16, p = 0;
            float* dst = Y + (long)mo0 * Spatial;
            if (Yt2 != null)
                for (int q = 0; q < Spatial; q++)
                {
                    // 16 channels of one pixel: one vector, not a call.
                    float* sum = Yt + (long)q * Channels + mo0;
                    System.Runtime.Intrinsics.Vector512.Store(System.Runtime.Intrinsics.Vector512.Load(sum) + System.Runtime.Intrinsics.Vector512.Load(Yt2 + (long)q * Channels + mo0), sum);
                }
            if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                for (; p + 16 <= Spatial; p += 16) PackTranspose.Block16(Yt + (long)p * Channels + mo0, Channels, 16, dst + p, Spatial);
            for (int t = 0; t < 16; t++)
            {
                float* row = dst + (long)t * Spatial;
                for (int q = p; q < Spatial; q++) row[q] = Yt[(long)q * Channels + mo0 + t];
                if (Bias != null) System.Numerics.Tensors.TensorPrimitives.Add(new Span<float>(row, Spatial), Bias[mo0 + t], new Span<float>(row, Spatial));
            }
            // The 16 channels' planes are contiguous: residual and activation in one pass each, not one per channel.
            int count = 16 * Spatial;
            if (Residual != null)
                System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(dst, count), new ReadOnlySpan<float>(Residual + (long)mo0 * Spatial, count), new Span<float>(dst, count));
            ActivationRow.Apply(dst, count, Activation);
        }
    }

    /// <summary>Whether im2col convolutions may run in per-thread bands (<see cref="BandBody"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool SplitByBands = true;

    /// <summary>Bands for <see cref="BandBody"/>: one per thread when each gets at least 64 output pixels, else 1.</summary>
    private static int Bands(in ConvShape s, int threads) =>
        SplitByBands && threads > 1 && s.OutHeight >= threads && (long)s.OutHeight / threads * s.OutWidth >= 64 ? threads : 1;

    /// <summary>
    /// One thread's band of output rows, im2col and product together: the band's columns are unfolded into the
    /// thread's own scratch (<see cref="ThreadScratch"/>) and multiplied there into the band's pixels of Y. Unfolding
    /// into the shared workspace, in bands or by channels, wrote lines another step had left in the other core's
    /// cache and had each thread's product read columns the other wrote; with the host's vCPUs far apart ResNet's
    /// 28×28 im2col took 360-400 µs at two threads against 150-230 at one. Each pixel's products are the same
    /// whatever the split, so the result does not depend on the thread count.
    /// </summary>
    private struct BandBody : IParallelBody
    {
        public ConvShape S;
        public PackedMatrix Weights;
        public float* X, Y;
        public GemmEpilogue Epilogue;
        public int Bands;

        public void Invoke(int band)
        {
            int oh = S.OutHeight, ow = S.OutWidth;
            int oy0 = (int)((long)oh * band / Bands), oy1 = (int)((long)oh * (band + 1) / Bands);
            if (oy0 >= oy1) return;
            int pixels = (oy1 - oy0) * ow;
            float* col = ThreadScratch.Get((long)Weights.Cols * pixels);
            Im2Col.RunRows(S, X, col, oy0, oy1);
            var epilogue = Epilogue.Residual == null ? Epilogue : Epilogue with { Residual = Epilogue.Residual + (long)oy0 * ow };
            Sgemm.MultiplyPackedA(Weights, pixels, col, pixels, Y + (long)oy0 * ow, oh * ow, epilogue, WorkerPool.Serial);
        }
    }

    /// <summary>Scratch bytes <see cref="Run"/> needs for this shape.</summary>
    public static long WorkspaceBytes(in ConvShape s) =>
        UsesDepthwise(s) || s.IsPointwise ? 0 : (long)s.KernelSize * s.OutHeight * s.OutWidth * sizeof(float);

    /// <summary>Depthwise with one filter per channel: the direct path applies.</summary>
    private static bool UsesDepthwise(in ConvShape s) => s.IsDepthwise && s.InChannelsPerGroup == 1 && s.OutChannelsPerGroup == 1;

    /// <param name="residual">Optional tensor shaped like Y, added before the activation (a fused residual Add).</param>
    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation,
        float* workspace, WorkerPool pool)
    {
        if (UsesDepthwise(s)) { DepthwiseConv.Run(s, weights, x, y, residual, activation, pool); return; }
        int oh = s.OutHeight, ow = s.OutWidth, spatial = oh * ow;
        int cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup;
        for (int n = 0; n < s.Batch; n++)
        {
            for (int g = 0; g < s.Group; g++)
            {
                float* xg = x + ((long)n * s.InChannels + (long)g * cg) * s.InHeight * s.InWidth;
                float* yg = y + ((long)n * s.OutChannels + (long)g * mg) * spatial;
                var epilogue = new GemmEpilogue
                {
                    Bias = weights.Bias != null ? weights.Bias.Floats + g * mg : null,
                    BiasKind = weights.Bias != null ? BiasKind.PerRow : BiasKind.None,
                    Residual = residual != null ? residual + ((long)n * s.OutChannels + (long)g * mg) * spatial : null,
                    ResidualStride = spatial,
                    Activation = activation,
                };
                int bands = s.IsPointwise ? 1 : Bands(s, pool.Concurrency);
                if (bands > 1)
                {
                    var split = new BandBody { S = s, Weights = weights.PackedGroups[g], X = xg, Y = yg, Epilogue = epilogue, Bands = bands };
                    ThreadScratch.For(pool, bands, ref split, (long)split.Weights.Cols * ((oh + bands - 1) / bands) * ow);
                    continue;
                }
                float* col = xg;
                if (!s.IsPointwise)
                {
                    Im2Col.Run(s, xg, workspace, pool);
                    col = workspace;
                }
                Sgemm.MultiplyPackedA(weights.PackedGroups[g], spatial, col, spatial, yg, spatial, epilogue, pool);
            }
        }
    }
}
