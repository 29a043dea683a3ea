using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// A first layer (few input channels; ResNet's 7×7 stride-2 stem) from the input's column phases. Each input row is
/// padded once, and for stride 2 split into its even and odd columns (<see cref="PhaseBody"/>); the phase buffer also
/// holds the rows of zeros above and below the image, so tap (r, q) of any 16 output pixels is one contiguous load,
/// with no edge test in the tap loop. That lets a tile take three pixel vectors, from any rows, by eight output channels: 24 accumulators, and per
/// tap 3 input loads and 8 weight broadcasts for 24 FMAs. With one vector by 16 channels it was 17 loads for 16 FMAs,
/// and the stem ran at 58-64% of the FMA peak.
/// </summary>
public static unsafe partial class DirectSmallConv
{
    /// <summary>Output channels per tile of the phase path.</summary>
    private const int PhaseChannels = 8;
    /// <summary>Pixel vectors (16 output pixels each) per tile of the phase path.</summary>
    private const int PhaseVectors = 3;

    /// <summary>Whether tiles without a residual store from the accumulators (<see cref="PhaseTileBody.DirectStore"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool StoreFromRegisters = true;

    /// <summary>Scratch bytes <see cref="Run"/> uses: every input row padded (stride 1) or split into its two column phases (stride 2).</summary>
    public static long WorkspaceBytes(in ConvShape s) =>
        (long)s.Batch * s.InChannels * PhaseRows(s) * s.StrideWidth * PhaseLength(s) * sizeof(float);

    /// <summary>
    /// Floats per phase row: every 16-pixel tile's loads, up to (KW − 1) / stride past it, stay inside the row (zeros
    /// past the image), rounded to whole vectors.
    /// </summary>
    private static int PhaseLength(in ConvShape s) => ((s.OutWidth + Lanes - 1) / Lanes * Lanes + (s.KernelWidth - 1) / s.StrideWidth + Lanes - 1) / Lanes * Lanes;

    /// <summary>Phase rows per input plane: input rows −PadTop … (OH − 1)·2 − PadTop + KH − 1, the ones outside the image zeros.</summary>
    private static int PhaseRows(in ConvShape s) => (s.OutHeight - 1) * s.StrideHeight + s.KernelHeight;

    /// <summary>Runs the phase path: one band of output rows per thread, or the whole image on one with the caller's workspace.</summary>
    private static void RunFromPhases(in ConvShape s, RowBody rows, float* workspace, WorkerPool runOn)
    {
        var tiles = PhaseTileBody.For(s, rows.Taps, rows.Bias, rows.Activation);
        tiles.Y = rows.Y;
        tiles.Residual = rows.Residual;
        tiles.OutChannelStride = (long)s.OutHeight * s.OutWidth;
        tiles.OutImageStride = (long)s.OutChannels * s.OutHeight * s.OutWidth;
        var band = new PhaseBandBody
        {
            Split = PhaseBody.For(s, rows.X), Tiles = tiles, Shared = workspace,
            Bands = SplitByBands && s.Batch * s.OutHeight >= runOn.Concurrency ? runOn.Concurrency : 1,
        };
        if (band.Bands > 1) ThreadScratch.For(runOn, band.Bands, ref band, WorkspaceBytes(s) / sizeof(float));
        else band.Invoke(0);
    }

    /// <summary>
    /// One thread's band of output rows (over batch × height): the column phases of the input rows those rows read,
    /// split into the thread's own scratch (<see cref="ThreadScratch"/>, laid out as the whole workspace would be), then
    /// the band's tiles. Splitting the phases plane by plane in one loop and the tiles in another had each thread read
    /// phases the other wrote — with the host's vCPUs far apart, reads from the other core's cache. The halo rows are
    /// split by both threads. A single band uses the caller's workspace.
    /// </summary>
    private struct PhaseBandBody : IParallelBody
    {
        public PhaseBody Split;
        public PhaseTileBody Tiles;
        public int Bands;
        public float* Shared;

        public void Invoke(int band)
        {
            var s = Tiles.S;
            int total = s.Batch * s.OutHeight;
            int r0 = (int)((long)total * band / Bands), r1 = (int)((long)total * (band + 1) / Bands);
            if (r0 >= r1) return;
            var split = Split;
            var tiles = Tiles;
            split.Phases = tiles.Phases = Bands == 1 ? Shared : ThreadScratch.Get(WorkspaceBytes(s) / sizeof(float));
            for (int n = r0 / s.OutHeight; n <= (r1 - 1) / s.OutHeight; n++)
            {
                int oh0 = Math.Max(r0 - n * s.OutHeight, 0), oh1 = Math.Min(r1 - n * s.OutHeight, s.OutHeight);
                split.SplitFor(n, oh0, oh1);
            }
            int v1 = r1 * tiles.VectorsPerRow;
            for (int v = r0 * tiles.VectorsPerRow; v < v1; v += PhaseVectors) tiles.Run(v, Math.Min(PhaseVectors, v1 - v));
        }
    }

    /// <summary>
    /// One phase row, index (n·C + c)·<see cref="Rows"/> + row, for input row iy = row − PadTop: its column phases with
    /// the padding, phase[p][j] = x[iy, 2j + p − padLeft] (zero outside the image), so that tap q of the 16 output pixels
    /// from x0 is the one contiguous load phase[q mod 2][x0 + q / 2].
    /// </summary>
    private struct PhaseBody
    {
        public ConvShape S;
        public float* X, Phases;
        public int Length, Rows;

        public static PhaseBody For(in ConvShape s, float* x) => new() { S = s, X = x, Length = PhaseLength(s), Rows = PhaseRows(s) };

        /// <summary>Every phase row of image <paramref name="n"/> that output rows [<paramref name="oh0"/>, <paramref name="oh1"/>) read, all input channels.</summary>
        public readonly void SplitFor(int n, int oh0, int oh1)
        {
            int first = oh0 * S.StrideHeight, end = (oh1 - 1) * S.StrideHeight + S.KernelHeight;
            for (int ci = 0; ci < S.InChannels; ci++)
                for (int row = first; row < end; row++) Invoke((n * S.InChannels + ci) * Rows + row);
        }

        [SkipLocalsInit]
        public readonly void Invoke(int index)
        {
            int iw = S.InWidth, plane = index / Rows, iy = index - plane * Rows - S.PadTop;
            int phases = S.StrideWidth;
            float* even = Phases + (long)index * phases * Length, odd = even + Length;
            if ((uint)iy >= (uint)S.InHeight) { new Span<float>(even, phases * Length).Clear(); return; }
            float* src = X + ((long)plane * S.InHeight + iy) * iw;
            if (phases == 1)
            {
                // Stride 1: the row shifted by the left padding, zeros around it.
                int lead = Math.Min(S.PadLeft, Length), n = Math.Max(0, Math.Min(iw, Length - lead));
                new Span<float>(even, lead).Clear();
                new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(even + lead, n));
                new Span<float>(even + lead + n, Length - lead - n).Clear();
                return;
            }
            // The row shifted by the left padding, zeros around it, then de-interleaved 32 floats at a time.
            int padded = 2 * Length + 2 * Lanes;
            float* row = stackalloc float[padded];
            int left = Math.Min(S.PadLeft, padded), copy = Math.Max(0, Math.Min(iw, padded - left));
            new Span<float>(row, left).Clear();
            new ReadOnlySpan<float>(src, copy).CopyTo(new Span<float>(row + left, copy));
            new Span<float>(row + left + copy, padded - left - copy).Clear();
            var evenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var oddIndex = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            for (int j = 0; j < Length; j += Lanes)
            {
                var a = Vector512.Load(row + 2 * j);
                var b = Vector512.Load(row + 2 * j + Lanes);
                Vector512.Store(Avx512F.PermuteVar16x32x2(a, evenIndex, b), even + j);
                Vector512.Store(Avx512F.PermuteVar16x32x2(a, oddIndex, b), odd + j);
            }
        }
    }

    /// <summary>Tiles of up to three pixel vectors (consecutive in the batch × rows × vectors order, so any rows) by every 8-channel block.</summary>
    private struct PhaseTileBody
    {
        public ConvShape S;
        public float* Y, Residual, Taps, Bias, Phases;
        public Activation Activation;
        public int PaddedChannels, Length, Rows, VectorsPerRow;
        /// <summary>
        /// Where output (n, c, y, x) goes: Y + n·OutImageStride + c·OutChannelStride + (y − OutFirstRow)·OW + x. The whole
        /// output tensor, or for the pooled path a few rows of one image in scratch.
        /// </summary>
        public long OutImageStride, OutChannelStride;
        public int OutFirstRow;

        /// <summary>The tiles of convolution <paramref name="s"/> with tap-major filters; the caller sets where the output goes.</summary>
        public static PhaseTileBody For(in ConvShape s, float* taps, float* bias, Activation activation) => new()
        {
            S = s, Taps = taps, Bias = bias, Activation = activation,
            PaddedChannels = (s.OutChannels + ChannelBlock - 1) / ChannelBlock * ChannelBlock,
            Length = PhaseLength(s), Rows = PhaseRows(s), VectorsPerRow = (s.OutWidth + Lanes - 1) / Lanes,
        };

        /// <summary>Pixel vectors [first, first + count) of the batch × rows × vectors order, count ≤ 3.</summary>
        [SkipLocalsInit]
        public readonly void Run(int first, int count)
        {
            int oh = S.OutHeight, ow = S.OutWidth, oc = S.OutChannels;
            // Per vector: where its first tap's phase row starts (row oh·2 of its image's plane 0), and its first output pixel.
            long* input = stackalloc long[PhaseVectors];
            long* output = stackalloc long[PhaseVectors];
            int* valid = stackalloc int[PhaseVectors];
            for (int i = 0; i < count; i++)
            {
                int v = first + i, row = v / VectorsPerRow, x0 = (v - row * VectorsPerRow) * Lanes;
                int n = row / oh, y = row - n * oh;
                input[i] = InputOffset(n, y, x0);
                output[i] = n * OutImageStride + (long)(y - OutFirstRow) * ow + x0;
                valid[i] = Math.Min(Lanes, ow - x0);
            }
            float* tile = stackalloc float[PhaseVectors * PhaseChannels * Lanes];
            // The common epilogue (no residual, ReLU or none, eight channels) stores from the accumulators; the rest goes through the tile.
            bool fromRegisters = StoresFromRegisters;
            for (int c0 = 0; c0 < oc; c0 += PhaseChannels)
            {
                var direct = fromRegisters && c0 + PhaseChannels <= oc ? new DirectStore(this, c0, output, valid) : default;
                if (count == 3) Accumulate<R3>(c0, input, tile, direct);
                else if (count == 2) Accumulate<R2>(c0, input, tile, direct);
                else Accumulate<R1>(c0, input, tile, direct);
                if (direct.Y != null) continue;
                int channels = Math.Min(PhaseChannels, oc - c0);
                for (int i = 0; i < count; i++)
                {
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid[i])).AsSingle();
                    for (int c = 0; c < channels; c++)
                    {
                        var o = Vector512.Load(tile + (i * PhaseChannels + c) * Lanes);
                        long at = output[i] + (c0 + c) * OutChannelStride;
                        if (Residual != null) o += Avx512F.MaskLoad(Residual + at, mask, Vector512<float>.Zero);
                        o = TileStore512.Activate(o, Activation);
                        if (valid[i] == Lanes) Vector512.Store(o, Y + at);
                        else Avx512F.MaskStore(Y + at, mask, o);
                    }
                }
            }
        }

        /// <summary>
        /// tile[(i·8 + c)·16 + lane] = bias + Σ taps for pixel vector i &lt; <typeparamref name="TVectors"/> and channel
        /// c0 + c, taps in the order (input channel, r, q) as the reference sums them.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Accumulate<TVectors>(int c0, long* input, float* tile, DirectStore direct) where TVectors : struct, IRowCount
        {
            int count = TVectors.Value;
            bool two = count > 1, three = count > 2;
            var b0 = Vector512.Create(BiasOf(c0 + 0)); var b1 = Vector512.Create(BiasOf(c0 + 1));
            var b2 = Vector512.Create(BiasOf(c0 + 2)); var b3 = Vector512.Create(BiasOf(c0 + 3));
            var b4 = Vector512.Create(BiasOf(c0 + 4)); var b5 = Vector512.Create(BiasOf(c0 + 5));
            var b6 = Vector512.Create(BiasOf(c0 + 6)); var b7 = Vector512.Create(BiasOf(c0 + 7));
            Vector512<float> a00 = b0, a01 = b1, a02 = b2, a03 = b3, a04 = b4, a05 = b5, a06 = b6, a07 = b7;
            Vector512<float> a10 = b0, a11 = b1, a12 = b2, a13 = b3, a14 = b4, a15 = b5, a16 = b6, a17 = b7;
            Vector512<float> a20 = b0, a21 = b1, a22 = b2, a23 = b3, a24 = b4, a25 = b5, a26 = b6, a27 = b7;
            float* p0 = Phases + input[0], p1 = two ? Phases + input[1] : p0, p2 = three ? Phases + input[2] : p0;
            float* w = Taps + c0;
            long rowStride = (long)S.StrideWidth * Length, planeStride = Rows * rowStride;
            int kh = S.KernelHeight, kw = S.KernelWidth, length = Length, padded = PaddedChannels;
            int phaseOf = S.StrideWidth - 1; // stride 2: column q is phase q & 1 at q >> 1; stride 1: column q of the row
            for (int ci = 0; ci < S.InChannels; ci++)
            {
                for (int r = 0; r < kh; r++)
                {
                    long at = ci * planeStride + r * rowStride;
                    for (int q = 0; q < kw; q++, w += padded)
                    {
                        long t = at + (q & phaseOf) * length + (q >> phaseOf);
                        var v0 = Vector512.Load(p0 + t);
                        var v1 = two ? Vector512.Load(p1 + t) : default;
                        var v2 = three ? Vector512.Load(p2 + t) : default;
                        var k = Vector512.Create(w[0]);
                        a00 = Avx512F.FusedMultiplyAdd(v0, k, a00); if (two) a10 = Avx512F.FusedMultiplyAdd(v1, k, a10); if (three) a20 = Avx512F.FusedMultiplyAdd(v2, k, a20);
                        k = Vector512.Create(w[1]);
                        a01 = Avx512F.FusedMultiplyAdd(v0, k, a01); if (two) a11 = Avx512F.FusedMultiplyAdd(v1, k, a11); if (three) a21 = Avx512F.FusedMultiplyAdd(v2, k, a21);
                        k = Vector512.Create(w[2]);
                        a02 = Avx512F.FusedMultiplyAdd(v0, k, a02); if (two) a12 = Avx512F.FusedMultiplyAdd(v1, k, a12); if (three) a22 = Avx512F.FusedMultiplyAdd(v2, k, a22);
                        k = Vector512.Create(w[3]);
                        a03 = Avx512F.FusedMultiplyAdd(v0, k, a03); if (two) a13 = Avx512F.FusedMultiplyAdd(v1, k, a13); if (three) a23 = Avx512F.FusedMultiplyAdd(v2, k, a23);
                        k = Vector512.Create(w[4]);
                        a04 = Avx512F.FusedMultiplyAdd(v0, k, a04); if (two) a14 = Avx512F.FusedMultiplyAdd(v1, k, a14); if (three) a24 = Avx512F.FusedMultiplyAdd(v2, k, a24);
                        k = Vector512.Create(w[5]);
                        a05 = Avx512F.FusedMultiplyAdd(v0, k, a05); if (two) a15 = Avx512F.FusedMultiplyAdd(v1, k, a15); if (three) a25 = Avx512F.FusedMultiplyAdd(v2, k, a25);
                        k = Vector512.Create(w[6]);
                        a06 = Avx512F.FusedMultiplyAdd(v0, k, a06); if (two) a16 = Avx512F.FusedMultiplyAdd(v1, k, a16); if (three) a26 = Avx512F.FusedMultiplyAdd(v2, k, a26);
                        k = Vector512.Create(w[7]);
                        a07 = Avx512F.FusedMultiplyAdd(v0, k, a07); if (two) a17 = Avx512F.FusedMultiplyAdd(v1, k, a17); if (three) a27 = Avx512F.FusedMultiplyAdd(v2, k, a27);
                    }
                }
            }
            if (direct.Y != null && direct.PoolsPairs)
            {
                direct.StorePooledPair(a00, a10, 0); direct.StorePooledPair(a01, a11, 1);
                direct.StorePooledPair(a02, a12, 2); direct.StorePooledPair(a03, a13, 3);
                direct.StorePooledPair(a04, a14, 4); direct.StorePooledPair(a05, a15, 5);
                direct.StorePooledPair(a06, a16, 6); direct.StorePooledPair(a07, a17, 7);
                return;
            }
            if (direct.Y != null)
            {
                direct.Store(0, a00, a01, a02, a03, a04, a05, a06, a07);
                if (two) direct.Store(1, a10, a11, a12, a13, a14, a15, a16, a17);
                if (three) direct.Store(2, a20, a21, a22, a23, a24, a25, a26, a27);
                return;
            }
            // Through the stack before the epilogue's calls, so the accumulators stay in registers in the tap loop.
            Vector512.Store(a00, tile + 0 * Lanes); Vector512.Store(a01, tile + 1 * Lanes);
            Vector512.Store(a02, tile + 2 * Lanes); Vector512.Store(a03, tile + 3 * Lanes);
            Vector512.Store(a04, tile + 4 * Lanes); Vector512.Store(a05, tile + 5 * Lanes);
            Vector512.Store(a06, tile + 6 * Lanes); Vector512.Store(a07, tile + 7 * Lanes);
            if (two)
            {
                Vector512.Store(a10, tile + 8 * Lanes); Vector512.Store(a11, tile + 9 * Lanes);
                Vector512.Store(a12, tile + 10 * Lanes); Vector512.Store(a13, tile + 11 * Lanes);
                Vector512.Store(a14, tile + 12 * Lanes); Vector512.Store(a15, tile + 13 * Lanes);
                Vector512.Store(a16, tile + 14 * Lanes); Vector512.Store(a17, tile + 15 * Lanes);
            }
            if (three)
            {
                Vector512.Store(a20, tile + 16 * Lanes); Vector512.Store(a21, tile + 17 * Lanes);
                Vector512.Store(a22, tile + 18 * Lanes); Vector512.Store(a23, tile + 19 * Lanes);
                Vector512.Store(a24, tile + 20 * Lanes); Vector512.Store(a25, tile + 21 * Lanes);
                Vector512.Store(a26, tile + 22 * Lanes); Vector512.Store(a27, tile + 23 * Lanes);
            }
        }

        /// <summary>Where the first tap of output row <paramref name="y"/>'s pixels from <paramref name="x0"/> reads: phase row y·stride of image n's plane 0.</summary>
        private readonly long InputOffset(int n, int y, int x0) =>
            ((long)n * S.InChannels * Rows + (long)y * S.StrideHeight) * S.StrideWidth * Length + x0;

        /// <summary>Whether tiles of this convolution may store from the accumulators: no residual, at most a ReLU.</summary>
        public readonly bool StoresFromRegisters => StoreFromRegisters && Residual == null && Activation.Kind is ActivationKind.None or ActivationKind.Relu;

        /// <summary>
        /// Conv rows 2q and 2q + 1 of image <paramref name="n"/>, pixel vector <paramref name="vector"/> (16 conv
        /// columns), as two-vector tiles of eight channels, max-pooled 2×2 with stride 2 in registers: eight pooled
        /// pixels per channel, stored at <paramref name="pooled"/> (pooled row q, its first column) with
        /// <paramref name="pooledChannelStride"/> between channels, <paramref name="valid"/> of them. Needs
        /// <see cref="StoresFromRegisters"/> and whole eight-channel blocks.
        /// </summary>
        public readonly void RunPooledPair(int n, int q, int vector, float* pooled, long pooledChannelStride, int valid)
        {
            long* input = stackalloc long[PhaseVectors];
            input[0] = InputOffset(n, 2 * q, vector * Lanes);
            input[1] = InputOffset(n, 2 * q + 1, vector * Lanes);
            for (int c0 = 0; c0 < S.OutChannels; c0 += PhaseChannels)
                Accumulate<R2>(c0, input, null, new DirectStore(this, pooled + c0 * pooledChannelStride, pooledChannelStride, valid));
        }

        /// <summary>
        /// Where a tile of eight whole channels goes when it needs no residual and at most a ReLU: stored straight from the
        /// accumulators. Through the stack with the general epilogue, the stores cost as much as the taps for a 3-channel input.
        /// Or, for <see cref="RunPooledPair"/>, max-pooled first.
        /// </summary>
        private readonly struct DirectStore
        {
            public readonly float* Y;
            private readonly long* output;
            private readonly int* valid;
            private readonly long channelStride;
            private readonly bool relu;
            /// <summary>Whether the tile is two vertically adjacent pixel vectors to pool 2×2 (<see cref="StorePooledPair"/>).</summary>
            public readonly bool PoolsPairs;
            private readonly int pooledValid;

            public DirectStore(in PhaseTileBody t, int c0, long* output, int* valid)
            {
                Y = t.Y + c0 * t.OutChannelStride;
                this.output = output;
                this.valid = valid;
                channelStride = t.OutChannelStride;
                relu = t.Activation.Kind == ActivationKind.Relu;
            }

            public DirectStore(in PhaseTileBody t, float* pooled, long pooledChannelStride, int valid)
            {
                Y = pooled;
                channelStride = pooledChannelStride;
                relu = t.Activation.Kind == ActivationKind.Relu;
                PoolsPairs = true;
                pooledValid = valid;
            }

            /// <summary>
            /// Channel <paramref name="c"/> of the block: the max of the two rows, then of each column pair (lanes 2j and
            /// 2j + 1 swapped within 128-bit lanes), the even lanes gathered into the low eight and stored.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void StorePooledPair(Vector512<float> top, Vector512<float> bottom, int c)
            {
                if (relu) { top = Vector512.Max(top, Vector512<float>.Zero); bottom = Vector512.Max(bottom, Vector512<float>.Zero); }
                var m = Vector512.Max(top, bottom);
                m = Vector512.Max(m, Avx512F.Permute4x32(m, 0b10_11_00_01));
                var even = Avx512F.PermuteVar16x32(m, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0)).GetLower();
                float* d = Y + c * channelStride;
                if (pooledValid == 8) Vector256.Store(even, d);
                else Avx.MaskStore(d, Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(pooledValid)).AsSingle(), even);
            }

            /// <summary>Pixel vector <paramref name="i"/> of channels c0 … c0 + 7.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Store(int i, Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3,
                Vector512<float> c4, Vector512<float> c5, Vector512<float> c6, Vector512<float> c7)
            {
                if (relu)
                {
                    c0 = Vector512.Max(c0, Vector512<float>.Zero); c1 = Vector512.Max(c1, Vector512<float>.Zero);
                    c2 = Vector512.Max(c2, Vector512<float>.Zero); c3 = Vector512.Max(c3, Vector512<float>.Zero);
                    c4 = Vector512.Max(c4, Vector512<float>.Zero); c5 = Vector512.Max(c5, Vector512<float>.Zero);
                    c6 = Vector512.Max(c6, Vector512<float>.Zero); c7 = Vector512.Max(c7, Vector512<float>.Zero);
                }
                float* d = Y + output[i];
                long cs = channelStride;
                if (valid[i] == Lanes)
                {
                    Vector512.Store(c0, d); Vector512.Store(c1, d + cs); Vector512.Store(c2, d + 2 * cs); Vector512.Store(c3, d + 3 * cs);
                    Vector512.Store(c4, d + 4 * cs); Vector512.Store(c5, d + 5 * cs); Vector512.Store(c6, d + 6 * cs); Vector512.Store(c7, d + 7 * cs);
                    return;
                }
                var m = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid[i])).AsSingle();
                Avx512F.MaskStore(d, m, c0); Avx512F.MaskStore(d + cs, m, c1); Avx512F.MaskStore(d + 2 * cs, m, c2); Avx512F.MaskStore(d + 3 * cs, m, c3);
                Avx512F.MaskStore(d + 4 * cs, m, c4); Avx512F.MaskStore(d + 5 * cs, m, c5); Avx512F.MaskStore(d + 6 * cs, m, c6); Avx512F.MaskStore(d + 7 * cs, m, c7);
            }
        }

        private readonly float BiasOf(int channel) => Bias != null && channel < S.OutChannels ? Bias[channel] : 0f;
    }
}
