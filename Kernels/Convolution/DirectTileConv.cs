using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Direct convolution for layers with many channels that Winograd does not take (ResNet's stride-2 3×3 convs): tiles of
/// 6 output pixels × 64 output channels in 24 accumulators; per tap 4 filter vectors (<see cref="ConvWeights.TapBlocks"/>)
/// and 6 input values broadcast straight from a zero-padded copy of the input rows. There is no column
/// matrix and no packing: im2col + GEMM wrote K·P floats, packed them again, and reached ≈ 176 GFLOP/s on layer2.0's
/// product, where this loop is the GEMM micro-kernel's own shape (MLAS's NCHWc kernel works the same way). A tile's
/// results go to a pixel-major Yᵀ in per-thread scratch and are transposed back to NCHW per band.
/// Parallel over bands of output rows, one per thread, each padding its own input rows, or, where the filters far
/// outweigh the input, over parts of the output channels (<see cref="ChannelParts"/>): bit-identical for any thread count.
/// </summary>
public static unsafe class DirectTileConv
{
    private const int TilePixels = 6;
    private const int ChannelBlock = 64;

    /// <summary>
    /// Ungrouped, undilated, a kernel wider than 1×1 (a strided 1×1's 64 taps ran at half the peak: its tap loop is all
    /// overhead), output channels in blocks of 64, more than 64 output pixels, AVX-512.
    /// </summary>
    public static bool Applies(in ConvShape s) =>
        Enabled && s.Group == 1 && s.KernelHeight * s.KernelWidth > 1 && s.DilationHeight == 1 && s.DilationWidth == 1
        && s.OutChannels % ChannelBlock == 0 && s.OutHeight * s.OutWidth > 64 && s.InChannels >= 16
        && KernelIsa.Current == IsaLevel.Avx512 && Avx512F.IsSupported;

    /// <summary>Whether <see cref="Conv2D.Choose"/> may pick this path; a switch for the benchmarks' A/B (read when planning).</summary>
    internal static bool Enabled = true;

    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation, WorkerPool pool)
    {
        var taps = weights.TapBlocks ?? throw new InvalidOperationException("ConvWeights.PrepareTapBlocks was not called for this convolution.");
        int paddedWidth = s.InWidth + s.PadLeft + s.PadRight;
        int channelParts = ChannelParts(s, pool.Concurrency, paddedWidth);
        int bands = Math.Max(1, Math.Min(pool.Concurrency / channelParts, s.OutHeight));
        var body = new BandBody
        {
            S = s, X = x, Y = y, Residual = residual, Taps = taps.Floats, Bias = weights.Bias != null ? weights.Bias.Floats : null,
            Activation = activation, Bands = bands, ChannelParts = channelParts, PaddedWidth = paddedWidth,
        };
        int items = bands * channelParts;
        for (int n = 0; n < s.Batch; n++)
        {
            body.Image = n;
            if (items > 1) ThreadScratch.For(pool, items, ref body, body.ScratchFloats((s.OutHeight + bands - 1) / bands));
            else body.Invoke(0);
        }
    }

    /// <summary>
    /// Parts the output channels are split into: one per thread when the filters outweigh the padded input by
    /// <see cref="ChannelSplitRatio"/> (ResNet's layer4.0: 4.7 MB of filters, 0.26 MB of input; layer3.0: 1.2 and 0.46), else 1 (bands of rows).
    /// In bands every thread streams all the filters from memory; split by channels each streams its share and pads
    /// the whole (small) input.
    /// </summary>
    private static int ChannelParts(in ConvShape s, int threads, int paddedWidth)
    {
        if (threads < 2 || ChannelSplitRatio <= 0) return 1;
        long filterBytes = (long)s.KernelSize * s.OutChannels * sizeof(float);
        long inputBytes = (long)s.InChannels * (s.InHeight + s.PadTop + s.PadBottom) * paddedWidth * sizeof(float);
        int blocks = s.OutChannels / ChannelBlock;
        return filterBytes >= ChannelSplitRatio * inputBytes && blocks >= threads ? threads : 1;
    }

    /// <summary>Filter bytes per padded input byte from which threads split the channels (0: never). A field for A/B runs.</summary>
    internal static double ChannelSplitRatio = 2;

    private struct BandBody : IParallelBody
    {
        public ConvShape S;
        public float* X, Y, Residual, Taps, Bias;
        public Activation Activation;
        public int Bands, ChannelParts, Image, PaddedWidth;

        [SkipLocalsInit]
        public void Invoke(int item)
        {
            var s = S;
            int band = item / ChannelParts, part = item - band * ChannelParts, blocks = s.OutChannels / ChannelBlock;
            int cLo = blocks * part / ChannelParts * ChannelBlock, cHi = blocks * (part + 1) / ChannelParts * ChannelBlock;
            int oy0 = (int)((long)s.OutHeight * band / Bands), oy1 = (int)((long)s.OutHeight * (band + 1) / Bands);
            if (oy0 >= oy1) return;
            int ow = s.OutWidth, m = s.OutChannels, pw = PaddedWidth;
            int rows = (oy1 - oy0 - 1) * s.StrideHeight + s.KernelHeight, pixels = (oy1 - oy0) * ow;
            long plane = (long)rows * pw, padFloats = (s.InChannels * plane + 15) & ~15L;
            float* xpad = ThreadScratch.Get(ScratchFloats(oy1 - oy0));
            float* yt = xpad + padFloats;
            PadRows(s, X + (long)Image * s.InChannels * s.InHeight * s.InWidth, xpad, oy0 * s.StrideHeight - s.PadTop, rows, pw);
            // Each pixel's first tap in the padded band: row (oy − oy0)·SH, column ox·SW.
            int* bases = stackalloc int[TilePixels];
            bool activateInTile = Residual == null;
            long blockFloats = (long)s.KernelSize * ChannelBlock;
            for (int c0 = cLo; c0 < cHi; c0 += ChannelBlock)
            {
                float* bias = Bias != null ? Bias + c0 : null;
                for (int p = 0; p < pixels; p += TilePixels)
                {
                    int count = Math.Min(TilePixels, pixels - p);
                    for (int i = 0; i < count; i++)
                    {
                        int oy = (p + i) / ow, ox = p + i - oy * ow;
                        bases[i] = oy * s.StrideHeight * pw + ox * s.StrideWidth;
                    }
                    float* dst = yt + (long)p * m + c0;
                    var t = new TileArgs { X = xpad, Bases = bases, W = Taps + c0 / ChannelBlock * blockFloats, Plane = (int)plane, Width = pw, Bias = bias, Yt = dst, M = m };
                    switch (count)
                    {
                        case 6: Tile<R6>(s, t); break;
                        case 5: Tile<R5>(s, t); break;
                        case 4: Tile<R4>(s, t); break;
                        case 3: Tile<R3>(s, t); break;
                        case 2: Tile<R2>(s, t); break;
                        default: Tile<R1>(s, t); break;
                    }
                    if (activateInTile && Activation.Kind != ActivationKind.None)
                        for (int i = 0; i < count; i++) ActivationRow.Apply(dst + (long)i * m, ChannelBlock, Activation);
                }
            }
            Back(yt, pixels, oy0 * ow, cLo, cHi, activateInTile);
        }

        /// <summary>Scratch for a band of <paramref name="outRows"/> output rows: its padded input rows, then its Yᵀ.</summary>
        public readonly long ScratchFloats(int outRows)
        {
            long padFloats = ((long)S.InChannels * ((outRows - 1) * S.StrideHeight + S.KernelHeight) * PaddedWidth + 15) & ~15L;
            return padFloats + (long)outRows * S.OutWidth * S.OutChannels;
        }

        /// <summary>
        /// Channels [cLo, cHi) of the band's Yᵀ[pixels × M] back to Y[M][OH·OW] from pixel p0, then the residual and
        /// activation if not applied yet.
        /// </summary>
        private readonly void Back(float* yt, int pixels, int p0, int cLo, int cHi, bool activated)
        {
            int m = S.OutChannels;
            long planeSize = (long)S.OutHeight * S.OutWidth;
            float* y = Y + (long)Image * m * planeSize + p0;
            float* res = Residual != null ? Residual + (long)Image * m * planeSize + p0 : null;
            for (int c0 = cLo; c0 < cHi; c0 += 16)
            {
                int q = 0;
                for (; q + 16 <= pixels; q += 16) PackTranspose.Block16(yt + (long)q * m + c0, m, 16, y + c0 * planeSize + q, planeSize);
                for (int t = 0; t < 16; t++)
                {
                    float* row = y + (c0 + t) * planeSize;
                    for (int r = q; r < pixels; r++) row[r] = yt[(long)r * m + c0 + t];
                    if (activated) continue;
                    var span = new Span<float>(row, pixels);
                    if (res != null) System.Numerics.Tensors.TensorPrimitives.Add(span, new ReadOnlySpan<float>(res + (c0 + t) * planeSize, pixels), span);
                    ActivationRow.Apply(row, pixels, Activation);
                }
            }
        }
    }

    /// <summary>
    /// Input rows [iy0, iy0 + rows) of every channel into xpad[c][r][PadLeft + ix], zero in the padding columns and for
    /// rows outside the image.
    /// </summary>
    private static void PadRows(in ConvShape s, float* x, float* xpad, int iy0, int rows, int pw)
    {
        int iw = s.InWidth, right = pw - s.PadLeft - iw;
        for (int c = 0; c < s.InChannels; c++)
            for (int r = 0; r < rows; r++)
            {
                float* dst = xpad + ((long)c * rows + r) * pw;
                int iy = iy0 + r;
                if ((uint)iy >= (uint)s.InHeight) { new Span<float>(dst, pw).Clear(); continue; }
                new Span<float>(dst, s.PadLeft).Clear();
                new ReadOnlySpan<float>(x + ((long)c * s.InHeight + iy) * iw, iw).CopyTo(new Span<float>(dst + s.PadLeft, iw));
                new Span<float>(dst + s.PadLeft + iw, right).Clear();
            }
    }

    private struct TileArgs
    {
        public float* X, W, Bias, Yt;
        public int* Bases;
        public int Plane, Width, M;
    }

    /// <summary>
    /// Yᵀ[i][c] = bias[c] + Σ over taps (input channel, ky, kx) of x[base_i + ky·W + kx] · w[tap][c] for the tile's
    /// pixels i &lt; <typeparamref name="TPixels"/> and 64 channels: taps in the reference's order.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TPixels>(in ConvShape s, in TileArgs t) where TPixels : struct, IRowCount
    {
        int count = TPixels.Value;
        var b0 = t.Bias != null ? Vector512.Load(t.Bias) : default;
        var b1 = t.Bias != null ? Vector512.Load(t.Bias + 16) : default;
        var b2 = t.Bias != null ? Vector512.Load(t.Bias + 32) : default;
        var b3 = t.Bias != null ? Vector512.Load(t.Bias + 48) : default;
        Vector512<float> a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
        Vector512<float> a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
        Vector512<float> a40 = b0, a41 = b1, a42 = b2, a43 = b3, a50 = b0, a51 = b1, a52 = b2, a53 = b3;
        long o0 = t.Bases[0], o1 = count > 1 ? t.Bases[1] : 0, o2 = count > 2 ? t.Bases[2] : 0;
        long o3 = count > 3 ? t.Bases[3] : 0, o4 = count > 4 ? t.Bases[4] : 0, o5 = count > 5 ? t.Bases[5] : 0;
        float* w = t.W;
        int kh = s.KernelHeight, kw = s.KernelWidth, channels = s.InChannels, width = t.Width;
        for (int c = 0; c < channels; c++)
        {
            float* xc = t.X + (long)c * t.Plane;
            for (int ky = 0; ky < kh; ky++)
            {
                float* xq = xc + (long)ky * width;
                for (int kx = 0; kx < kw; kx++, xq++, w += ChannelBlock)
                {
                    var w0 = Vector512.Load(w); var w1 = Vector512.Load(w + 16);
                    var w2 = Vector512.Load(w + 32); var w3 = Vector512.Load(w + 48);
                    var v = Vector512.Create(xq[o0]);
                    a00 = Avx512F.FusedMultiplyAdd(v, w0, a00); a01 = Avx512F.FusedMultiplyAdd(v, w1, a01);
                    a02 = Avx512F.FusedMultiplyAdd(v, w2, a02); a03 = Avx512F.FusedMultiplyAdd(v, w3, a03);
                    if (count > 1)
                    {
                        v = Vector512.Create(xq[o1]);
                        a10 = Avx512F.FusedMultiplyAdd(v, w0, a10); a11 = Avx512F.FusedMultiplyAdd(v, w1, a11);
                        a12 = Avx512F.FusedMultiplyAdd(v, w2, a12); a13 = Avx512F.FusedMultiplyAdd(v, w3, a13);
                    }
                    if (count > 2)
                    {
                        v = Vector512.Create(xq[o2]);
                        a20 = Avx512F.FusedMultiplyAdd(v, w0, a20); a21 = Avx512F.FusedMultiplyAdd(v, w1, a21);
                        a22 = Avx512F.FusedMultiplyAdd(v, w2, a22); a23 = Avx512F.FusedMultiplyAdd(v, w3, a23);
                    }
                    if (count > 3)
                    {
                        v = Vector512.Create(xq[o3]);
                        a30 = Avx512F.FusedMultiplyAdd(v, w0, a30); a31 = Avx512F.FusedMultiplyAdd(v, w1, a31);
                        a32 = Avx512F.FusedMultiplyAdd(v, w2, a32); a33 = Avx512F.FusedMultiplyAdd(v, w3, a33);
                    }
                    if (count > 4)
                    {
                        v = Vector512.Create(xq[o4]);
                        a40 = Avx512F.FusedMultiplyAdd(v, w0, a40); a41 = Avx512F.FusedMultiplyAdd(v, w1, a41);
                        a42 = Avx512F.FusedMultiplyAdd(v, w2, a42); a43 = Avx512F.FusedMultiplyAdd(v, w3, a43);
                    }
                    if (count > 5)
                    {
                        v = Vector512.Create(xq[o5]);
                        a50 = Avx512F.FusedMultiplyAdd(v, w0, a50); a51 = Avx512F.FusedMultiplyAdd(v, w1, a51);
                        a52 = Avx512F.FusedMultiplyAdd(v, w2, a52); a53 = Avx512F.FusedMultiplyAdd(v, w3, a53);
                    }
                }
            }
        }
        float* y = t.Yt;
        long m = t.M;
        Vector512.Store(a00, y); Vector512.Store(a01, y + 16); Vector512.Store(a02, y + 32); Vector512.Store(a03, y + 48);
        if (count > 1) { y += m; Vector512.Store(a10, y); Vector512.Store(a11, y + 16); Vector512.Store(a12, y + 32); Vector512.Store(a13, y + 48); }
        if (count > 2) { y += m; Vector512.Store(a20, y); Vector512.Store(a21, y + 16); Vector512.Store(a22, y + 32); Vector512.Store(a23, y + 48); }
        if (count > 3) { y += m; Vector512.Store(a30, y); Vector512.Store(a31, y + 16); Vector512.Store(a32, y + 32); Vector512.Store(a33, y + 48); }
        if (count > 4) { y += m; Vector512.Store(a40, y); Vector512.Store(a41, y + 16); Vector512.Store(a42, y + 32); Vector512.Store(a43, y + 48); }
        if (count > 5) { y += m; Vector512.Store(a50, y); Vector512.Store(a51, y + 16); Vector512.Store(a52, y + 32); Vector512.Store(a53, y + 48); }
    }
}
