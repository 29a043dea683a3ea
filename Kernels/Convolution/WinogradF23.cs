using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions on small images with many channels (ResNet's 7×7 and 14×14
/// stages), where F(4×4, 3×3) has 16 tiles or fewer (<see cref="IsProfitable"/>): a 7×7 image is 2×2 of its tiles,
/// 8×8 of padding for 49 outputs, and its products are at most 16 columns wide. 2×2 tiles cover 7×7 in 16 tiles and
/// 14×14 in 49; each costs 16 multiplies per channel pair instead of 36 for its 4 outputs (0.58 of the direct work on
/// 7×7 with the edge tiles' waste, 0.44 on 14×14), with the tiles as GEMM rows, so the products run on full 32-column
/// tiles along the channels. The transformed filters are 16 C×M matrices, 1.8× the filters' bytes, streamed from
/// memory once per run: on this host's ~50 GB/s for two cores the 7×7 stage at two threads is bound by that stream.
/// Per image, each thread takes a share of the output channels through all three steps in its own scratch:
/// <list type="number">
/// <item>input transform V[ξ][t][c] = (Bᵀ d B)[ξ] of every 4×4 input patch d (tiles 2 apart), 16 channels per
/// vector, from a pixel-major zero-margined copy of 16 channel planes; every thread transforms all channels (tens of
/// µs) so no line crosses between cores;</item>
/// <item>16 products Oᵀ[ξ][T×M'] = V[ξ]·U[ξ] with the tiles as GEMM rows and U[ξ] = (G g Gᵀ)[ξ] packed once as a
/// right operand (<see cref="ConvWeights.PrepareWinogradF23"/>), so the wide dimension is the channels;</item>
/// <item>output transform Y = Aᵀ O A per tile, 16 channels per vector, into a pixel-major block that is transposed
/// into the channels' planes, then bias, residual and activation.</item>
/// </list>
/// Every output's sums are the same whatever the split, so results do not depend on the thread count.
/// Needs AVX-512 F (<see cref="WinogradF43.IsSupported"/>).
/// </summary>
public static unsafe class WinogradF23
{
    private const int Xi = 16;
    private const int Lanes = 16;
    /// <summary>Most tiles (GEMM rows): the output transform's pixel block (4 pixels a tile, 16 channels) stays on the stack.</summary>
    private const int MaxTiles = 64;

    /// <summary>
    /// Whether F(2×2, 3×3) is expected to beat F(4×4, 3×3) and the GEMM paths: enough channels for the products to run
    /// near the peak, output channels in 16-channel blocks, 8-64 tiles, and an image on which F(4×4, 3×3) has at most
    /// <see cref="F43TilesUpTo"/> tiles. There its 36 products are at most 16 columns wide (the 16-column tile runs at
    /// 61% of the peak) and its transformed filters 2.25× these: ResNet's 14×14 layer3 convs, layer profile (p50),
    /// 0.64 against 0.87 ms on one thread, 0.38 against 0.50 on two; with their filters from memory 0.89 against
    /// 1.05 and 0.48 against 0.59.
    /// </summary>
    public static bool IsProfitable(in ConvShape s) =>
        Enabled && WinogradF43.IsSupported(s) && s.InChannels >= 64 && s.OutChannels >= 64 && s.OutChannels % 16 == 0
        && Tiles(s) >= 8 && Tiles(s) <= MaxTiles && WinogradF43.Tiles(s) <= F43TilesUpTo;

    /// <summary>Whether <see cref="Conv2D.Choose"/> may pick this path; a switch for the benchmarks' A/B.</summary>
    internal static bool Enabled = true;

    /// <summary>Most F(4×4, 3×3) tiles of an image this path takes over (<see cref="IsProfitable"/>); a field for A/B runs.</summary>
    internal static int F43TilesUpTo = 16;

    private static int TilesY(in ConvShape s) => (s.OutHeight + 1) / 2;
    private static int TilesX(in ConvShape s) => (s.OutWidth + 1) / 2;
    private static int Tiles(in ConvShape s) => TilesY(s) * TilesX(s);

    /// <summary>The zero-margined plane the input transform reads its patches from: every 4×4 patch of every tile lies inside it.</summary>
    private static int PaddedWidth(in ConvShape s) => 2 * TilesX(s) + 2;
    private static int PaddedHeight(in ConvShape s) => 2 * TilesY(s) + 2;

    /// <summary>Floats of one 16-channel block of the input, pixel-major, zero-margined (<see cref="TransformInput"/>); also bounds the unpadded copy.</summary>
    private static long BlockFloats(in ConvShape s) => (long)PaddedHeight(s) * PaddedWidth(s) * Lanes;

    /// <summary>
    /// Floats from one point's V (or Oᵀ) to the next: its matrix plus one cache line. At a multiple of 4 KiB (7×7's
    /// 16 tiles × 512 channels: 32 KiB) a transform's 16 accesses per tile, one per point, all fall in one L1 set.
    /// </summary>
    private static long PointStride(int tiles, int width) => (long)tiles * width + Lanes;

    /// <summary>One thread's scratch: V for all channels, the input block twice (unpadded, padded), and Oᵀ for its output channels.</summary>
    private static long PartFloats(in ConvShape s, int cols) =>
        Xi * PointStride(Tiles(s), s.InChannels) + 2 * BlockFloats(s) + Xi * PointStride(Tiles(s), cols);

    /// <summary>
    /// U[ξ] = (G g Gᵀ)[ξ] in double, rounded, written straight into the products' packed right operands: point ξ's Uᵀ
    /// (C×M) at <paramref name="dst"/> + ξ·<paramref name="pointFloats"/>, in 16-column panels (the layout of
    /// <see cref="Sgemm.PackB(bool, int, int, float*, int)"/> with kc = C: element (ci, mo) at panel mo / 16, row ci).
    /// M must be a multiple of 16. Through an M×C float[] and PackB instead, ResNet's 512-channel convs took 80-100 ms
    /// each at load, most of it faulting in the 16 MiB array.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per session, during a cold start: no tier-0 pass
    internal static void TransformFiltersPacked(float* oihw, int m, int c, float* dst, long pointFloats)
    {
        ReadOnlySpan<double> g4 =
        [
            1, 0, 0,
            0.5, 0.5, 0.5,
            0.5, -0.5, 0.5,
            0, 0, 1,
        ];
        Span<double> tmp = stackalloc double[4 * 3];
        for (int mo = 0; mo < m; mo++)
        {
            float* column = dst + (long)(mo >> 4) * 16 * c + (mo & 15);
            for (int ci = 0; ci < c; ci++)
            {
                float* g = oihw + ((long)mo * c + ci) * 9;
                for (int i = 0; i < 4; i++)
                    for (int k = 0; k < 3; k++)
                        tmp[i * 3 + k] = g4[i * 3] * g[k] + g4[i * 3 + 1] * g[3 + k] + g4[i * 3 + 2] * g[6 + k];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        column[(i * 4 + j) * pointFloats + ci * 16] = (float)(tmp[i * 3] * g4[j * 3] + tmp[i * 3 + 1] * g4[j * 3 + 1] + tmp[i * 3 + 2] * g4[j * 3 + 2]);
            }
        }
    }

    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation, WorkerPool pool)
    {
        var u = weights.WinogradF23Filters ?? throw new InvalidOperationException("ConvWeights.PrepareWinogradF23 was not called for this convolution.");
        if (Tiles(s) > MaxTiles || s.OutChannels % 16 != 0)
            throw new ArgumentException($"Winograd F(2x2,3x3) takes at most {MaxTiles} tiles and output channels in blocks of 16, not {Tiles(s)} tiles and {s.OutChannels} channels ({s}).", nameof(s));
        int blocks = s.OutChannels / 16;
        // One part per thread when each gets two 16-channel blocks or more: each streams only its columns of U.
        int parts = pool.Concurrency > 1 && blocks >= 2 * pool.Concurrency ? pool.Concurrency : 1;
        long plane = (long)s.OutChannels * s.OutHeight * s.OutWidth;
        for (int n = 0; n < s.Batch; n++)
        {
            var part = new PartBody
            {
                S = s, U = u, X = x + (long)n * s.InChannels * s.InHeight * s.InWidth, Y = y + n * plane,
                Residual = residual != null ? residual + n * plane : null, Bias = weights.Bias != null ? weights.Bias.Floats : null,
                Activation = activation, Parts = parts,
            };
            GemmScratch.Get(); // the products' packing scratch, on the caller too (it may run a part next time)
            ThreadScratch.For(pool, parts, ref part, PartFloats(s, (blocks + parts - 1) / parts * 16));
        }
    }

    /// <summary>One thread's share of the output channels, through all three steps (see the class summary).</summary>
    private struct PartBody : IParallelBody
    {
        public ConvShape S;
        public PackedMatrix[] U;
        public float* X, Y, Residual, Bias;
        public Activation Activation;
        public int Parts;

        public void Invoke(int part)
        {
            int blocks = S.OutChannels / 16, b0 = blocks * part / Parts, b1 = blocks * (part + 1) / Parts;
            if (b0 >= b1) return;
            int cols = (b1 - b0) * 16, c = S.InChannels, tiles = Tiles(S);
            float* v = ThreadScratch.Get(PartFloats(S, cols));
            float* block = v + Xi * PointStride(tiles, c);
            float* o = block + 2 * BlockFloats(S);
            TransformInput(S, X, v, block);
            for (int xi = 0; xi < Xi; xi++)
                Sgemm.MultiplyPackedSlice(false, tiles, b0 * 16, cols, 0, c, v + xi * PointStride(tiles, c), c, U[xi],
                    o + xi * PointStride(tiles, cols), cols, WorkerPool.Serial, xi + 1 < Xi ? U[xi + 1] : null);
            for (int b = b0; b < b1; b++) TransformOutput(b, o + (b - b0) * 16, cols);
        }

        /// <summary>Aᵀ O A for 16 channels of every tile into a pixel-major block, then into the channels' planes with the epilogue.</summary>
        [SkipLocalsInit]
        private readonly void TransformOutput(int block, float* o, int cols)
        {
            int oh = S.OutHeight, ow = S.OutWidth, spatial = oh * ow, tx = TilesX(S), tiles = Tiles(S);
            long xiStride = PointStride(tiles, cols);
            float* yt = stackalloc float[4 * MaxTiles * Lanes];
            var bias = Bias != null ? Vector512.Load(Bias + block * 16) : Vector512<float>.Zero;
            for (int t = 0; t < tiles; t++)
            {
                float* src = o + (long)t * cols;
                // Aᵀ = [1 1 1 0; 0 1 −1 −1].
                var r00 = Vector512.Load(src) + Vector512.Load(src + xiStride) + Vector512.Load(src + 2 * xiStride);
                var r01 = Vector512.Load(src + 4 * xiStride) + Vector512.Load(src + 5 * xiStride) + Vector512.Load(src + 6 * xiStride);
                var r02 = Vector512.Load(src + 8 * xiStride) + Vector512.Load(src + 9 * xiStride) + Vector512.Load(src + 10 * xiStride);
                var r03 = Vector512.Load(src + 12 * xiStride) + Vector512.Load(src + 13 * xiStride) + Vector512.Load(src + 14 * xiStride);
                var r10 = Vector512.Load(src + xiStride) - Vector512.Load(src + 2 * xiStride) - Vector512.Load(src + 3 * xiStride);
                var r11 = Vector512.Load(src + 5 * xiStride) - Vector512.Load(src + 6 * xiStride) - Vector512.Load(src + 7 * xiStride);
                var r12 = Vector512.Load(src + 9 * xiStride) - Vector512.Load(src + 10 * xiStride) - Vector512.Load(src + 11 * xiStride);
                var r13 = Vector512.Load(src + 13 * xiStride) - Vector512.Load(src + 14 * xiStride) - Vector512.Load(src + 15 * xiStride);
                int ty = t / tx, oy = 2 * ty, ox = 2 * (t - ty * tx);
                // Point (i, j) is ξ = 4i + j. r0i and r1i: row i of the points times A (output columns 0 and 1); Aᵀ on those
                // four rows then gives output rows 0 and 1.
                Put(yt, oy, ox, ow, oh, r00 + r01 + r02 + bias);
                Put(yt, oy + 1, ox, ow, oh, r01 - r02 - r03 + bias);
                Put(yt, oy, ox + 1, ow, oh, r10 + r11 + r12 + bias);
                Put(yt, oy + 1, ox + 1, ow, oh, r11 - r12 - r13 + bias);
            }
            float* dst = Y + (long)block * 16 * spatial;
            int p = 0;
            for (; p + 16 <= spatial; p += 16) PackTranspose.Block16(yt + p * Lanes, Lanes, 16, dst + p, spatial);
            for (int ch = 0; ch < 16; ch++)
                for (int q = p; q < spatial; q++) dst[(long)ch * spatial + q] = yt[q * Lanes + ch];
            // The 16 channels' planes are contiguous: residual and activation in one pass each.
            int count = 16 * spatial;
            if (Residual != null)
                System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(dst, count),
                    new ReadOnlySpan<float>(Residual + (long)block * 16 * spatial, count), new Span<float>(dst, count));
            ActivationRow.Apply(dst, count, Activation);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* yt, int oy, int ox, int ow, int oh, Vector512<float> value)
        {
            if (oy < oh && ox < ow) Vector512.Store(value, yt + (oy * ow + ox) * Lanes);
        }
    }

    /// <summary>
    /// V[ξ][t][c] = (Bᵀ d B)[ξ] of every tile's 4×4 patch d, 16 channels per vector: each block of 16 channel planes is
    /// transposed pixel-major (16×16 in registers) and copied into a zero-margined plane, where every tap of a tile is
    /// one aligned load and no tap needs a bounds check. A 512-channel 7×7 input takes 9-13 µs (best of a layer profile),
    /// 256 channels at 14×14 17 µs; gathering 16 tiles' taps per channel instead took 40-65 µs at 7×7, and the
    /// transform through a stack array of 16 vectors rather than locals 17-24 µs.
    /// </summary>
    [SkipLocalsInit]
    private static void TransformInput(in ConvShape s, float* x, float* v, float* scratch)
    {
        int ih = s.InHeight, iw = s.InWidth, hw = ih * iw, pw = PaddedWidth(s), ph = PaddedHeight(s), tx = TilesX(s), tiles = Tiles(s);
        int c = s.InChannels;
        long xiStride = PointStride(tiles, c);
        float* dense = scratch, padded = scratch + BlockFloats(s);
        new Span<float>(padded, ph * pw * Lanes).Clear();
        // Rows and columns of the image that land inside the padded plane (all of them unless the padding is 0 and the
        // image has a last odd row or column no output reads).
        int rows = Math.Min(ih, ph - s.PadTop), width = Math.Min(iw, pw - s.PadLeft);
        for (int c0 = 0; c0 < c; c0 += Lanes)
        {
            int count = Math.Min(Lanes, c - c0);
            float* planes = x + (long)c0 * hw;
            // dense[p][i] = channel c0 + i at pixel p (lanes past `count` undefined: never stored below).
            int p = 0;
            for (; p + 16 <= hw; p += 16) PackTranspose.Block16(planes + p, hw, count, dense + p * Lanes, Lanes);
            for (; p < hw; p++)
                for (int i = 0; i < count; i++) dense[p * Lanes + i] = planes[(long)i * hw + p];
            for (int r = 0; r < rows; r++)
                Buffer.MemoryCopy(dense + r * iw * Lanes, padded + ((r + s.PadTop) * pw + s.PadLeft) * Lanes, width * Lanes * 4L, width * Lanes * 4L);
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
            for (int t = 0; t < tiles; t++)
            {
                int ty = t / tx;
                float* patch = padded + (2 * ty * pw + 2 * (t - ty * tx)) * Lanes;
                // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1] on the patch's columns (row r: dB[r][0..3]), then on its rows.
                RowTimesB(patch, out var a0, out var a1, out var a2, out var a3);
                RowTimesB(patch + pw * Lanes, out var b0, out var b1, out var b2, out var b3);
                RowTimesB(patch + 2 * pw * Lanes, out var c0v, out var c1v, out var c2v, out var c3v);
                RowTimesB(patch + 3 * pw * Lanes, out var e0, out var e1, out var e2, out var e3);
                float* dst = v + (long)t * c + c0;
                Store(a0 - c0v, dst, mask, count); Store(a1 - c1v, dst + xiStride, mask, count);
                Store(a2 - c2v, dst + 2 * xiStride, mask, count); Store(a3 - c3v, dst + 3 * xiStride, mask, count);
                Store(b0 + c0v, dst + 4 * xiStride, mask, count); Store(b1 + c1v, dst + 5 * xiStride, mask, count);
                Store(b2 + c2v, dst + 6 * xiStride, mask, count); Store(b3 + c3v, dst + 7 * xiStride, mask, count);
                Store(c0v - b0, dst + 8 * xiStride, mask, count); Store(c1v - b1, dst + 9 * xiStride, mask, count);
                Store(c2v - b2, dst + 10 * xiStride, mask, count); Store(c3v - b3, dst + 11 * xiStride, mask, count);
                Store(b0 - e0, dst + 12 * xiStride, mask, count); Store(b1 - e1, dst + 13 * xiStride, mask, count);
                Store(b2 - e2, dst + 14 * xiStride, mask, count); Store(b3 - e3, dst + 15 * xiStride, mask, count);
            }
        }
    }

    /// <summary>One patch row (4 pixels of 16 channels, consecutive vectors) times B: d0 − d2, d1 + d2, d2 − d1, d1 − d3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTimesB(float* row, out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2, out Vector512<float> r3)
    {
        var d0 = Vector512.Load(row); var d1 = Vector512.Load(row + Lanes); var d2 = Vector512.Load(row + 2 * Lanes); var d3 = Vector512.Load(row + 3 * Lanes);
        r0 = d0 - d2; r1 = d1 + d2; r2 = d2 - d1; r3 = d1 - d3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> value, float* dst, Vector512<float> mask, int count)
    {
        if (count == Lanes) Vector512.Store(value, dst);
        else Avx512F.MaskStore(dst, mask, value);
    }
}
