using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Winograd F(4×4, 3×3) for 3×3, stride-1, undilated, ungrouped convolutions over NCHW (Lavin &amp; Gray's
/// matrices with points 0, ±1, ±2, ∞). Each 4×4 output tile costs 36 multiplies per channel pair instead
/// of 144, so the 3×3 layers of a ResNet need about a quarter of the GEMM work.
/// Three steps over the plan's workspace:
/// <list type="number">
/// <item>input transform V[ξ][c][tile] = (Bᵀ d B)[ξ] for every 6×6 input patch d (tiles 4 apart);</item>
/// <item>36 independent GEMMs O[ξ][M×T] = U[ξ][M×C] · V[ξ][C×T], U = G g Gᵀ transformed and packed once
/// (<see cref="ConvWeights.PrepareWinograd"/>); in parallel over ξ, each serial, so results do not depend
/// on the thread count;</item>
/// <item>output transform Y = Aᵀ O A per tile, cropped at the image edge, with bias, residual and
/// activation applied to whole output rows.</item>
/// </list>
/// Both transforms are vectorized over 16 horizontally adjacent tiles: input rows are first split into
/// their four column phases (x mod 4) so that every tap of 16 tiles is one contiguous vector.
/// Needs AVX-512 F; <see cref="IsSupported"/> says when it applies.
/// </summary>
public static unsafe class WinogradF43
{
    /// <summary>Points per tile edge in the transformed domain: m + r − 1 = 6.</summary>
    private const int Alpha = 6;
    private const int Xi = Alpha * Alpha;
    private const int Lanes = 16;

    /// <summary>Whether this convolution can run through Winograd F(4×4, 3×3) on the current ISA tier.</summary>
    public static bool IsSupported(in ConvShape s) =>
        s.KernelHeight == 3 && s.KernelWidth == 3 && s.StrideHeight == 1 && s.StrideWidth == 1
        && s.DilationHeight == 1 && s.DilationWidth == 1 && s.Group == 1
        && KernelIsa.Current == IsaLevel.Avx512 && Avx512F.IsSupported;

    /// <summary>
    /// Whether Winograd is expected to beat im2col + GEMM here: enough channels for the GEMMs to be
    /// efficient and enough tiles that the 16-lane transforms and the GEMM columns are not mostly padding.
    /// </summary>
    public static bool IsProfitable(in ConvShape s) =>
        IsSupported(s) && s.InChannels >= 16 && s.OutChannels >= 16 && Tiles(s) >= 16;

    private static int TilesY(in ConvShape s) => (s.OutHeight + 3) / 4;
    private static int TilesX(in ConvShape s) => (s.OutWidth + 3) / 4;
    /// <summary>4×4 output tiles covering the image.</summary>
    internal static int Tiles(in ConvShape s) => TilesY(s) * TilesX(s);
    private static long Align16(long floats) => (floats + 15) & ~15L;

    /// <summary>Workspace: V (36·C·T floats) and O (36·M·T), each padded for whole-vector reads past the end.</summary>
    public static long WorkspaceBytes(in ConvShape s) => RegionFloats(s, Tiles(s)) * sizeof(float);

    /// <summary>Floats of one region holding V and O for <paramref name="tiles"/> tiles, a multiple of 16.</summary>
    private static long RegionFloats(in ConvShape s, long tiles) =>
        Align16(Xi * s.InChannels * tiles) + Lanes + Align16(Xi * s.OutChannels * tiles) + Lanes;


    /// <summary>U[ξ] = (G g Gᵀ)[ξ] for every (m, c) as 36 row-major M×C matrices, in double then rounded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per session, during a cold start
    internal static float[] TransformFilters(float* oihw, int m, int c)
    {
        ReadOnlySpan<double> g6 =
        [
            1.0 / 4, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6,
            1.0 / 24, -1.0 / 12, 1.0 / 6,
            0, 0, 1,
        ];
        var u = new float[(long)Xi * m * c];
        Span<double> tmp = stackalloc double[Alpha * 3];
        for (int mo = 0; mo < m; mo++)
        {
            for (int ci = 0; ci < c; ci++)
            {
                float* g = oihw + ((long)mo * c + ci) * 9;
                for (int i = 0; i < Alpha; i++)
                    for (int k = 0; k < 3; k++)
                        tmp[i * 3 + k] = g6[i * 3] * g[k] + g6[i * 3 + 1] * g[3 + k] + g6[i * 3 + 2] * g[6 + k];
                for (int i = 0; i < Alpha; i++)
                    for (int j = 0; j < Alpha; j++)
                    {
                        double v = tmp[i * 3] * g6[j * 3] + tmp[i * 3 + 1] * g6[j * 3 + 1] + tmp[i * 3 + 2] * g6[j * 3 + 2];
                        u[((long)(i * Alpha + j) * m + mo) * c + ci] = (float)v;
                    }
            }
        }
        return u;
    }

    public static void Run(in ConvShape s, ConvWeights weights, float* x, float* y, float* residual, Activation activation,
        float* workspace, WorkerPool pool)
    {
        var u = weights.WinogradFilters ?? throw new InvalidOperationException("ConvWeights.PrepareWinograd was not called for this convolution.");
        int ty = TilesY(s), tx = TilesX(s), t = ty * tx;
        int c = s.InChannels, m = s.OutChannels;
        float* v = workspace;
        float* o = v + Align16((long)Xi * c * t) + Lanes;
        for (int n = 0; n < s.Batch; n++)
        {
            int group = GroupTileRows ? RowsPerGroup(tx) : 1;
            int parts = Parts(pool.Concurrency, group, ty, tx), groups = (ty + group - 1) / group;
            var input = new InputBody
            {
                S = s, X = x + (long)n * c * s.InHeight * s.InWidth, V = v, TilesY = ty, TilesX = tx, Group = group, TileLo = 0, RowStride = t,
            };
            long outOffset = (long)n * m * s.OutHeight * s.OutWidth;
            var output = new OutputBody
            {
                S = s, O = o, Y = y + outOffset, Residual = residual != null ? residual + outOffset : null,
                Bias = weights.Bias != null ? weights.Bias.Floats : null, Activation = activation, TilesY = ty, TilesX = tx, Group = group,
                TileLo = 0, RowStride = t,
            };
            if (parts > 1)
            {
                var split = new PartBody { Input = input, Output = output, U = u, Groups = groups, Parts = parts };
                GemmScratch.Get(); // as below
                ThreadScratch.For(pool, parts, ref split, RegionFloats(s, (long)ty * tx));
                continue;
            }
            pool.For(c * groups, ref input);
            var gemm = new GemmBody { U = u, V = v, O = o, C = c, M = m, T = t };
            // The caller's packing scratch exists before the loop even if the workers take every product this time,
            // so a later run on this thread never allocates it.
            GemmScratch.Get();
            pool.For(Xi, ref gemm);
            pool.For(m * groups, ref output);
        }
    }

    /// <summary>Whether a convolution may be split into per-thread parts (<see cref="PartBody"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool SplitByParts = true;

    /// <summary>Largest part over an even share of the tiles up to which <see cref="Parts"/> splits into parts.</summary>
    internal static double PartImbalance = 1.05;

    /// <summary>
    /// Parts for <see cref="PartBody"/>: one per thread when the tile-row groups share out within
    /// <see cref="PartImbalance"/> of an even split of the tiles and each part gets <see cref="MinPartTiles"/> tiles,
    /// else 1 (the phase-by-phase split, where each phase shares its own items out). 28×28's 7 tile rows as 4 + 3 were
    /// slower than the phase split (layer2 0.73-1.03 vs 0.61-0.76 ms per conv).
    /// </summary>
    private static int Parts(int threads, int group, int tilesY, int tilesX)
    {
        int parts = threads, groups = (tilesY + group - 1) / group;
        long tiles = (long)tilesY * tilesX;
        // Each part's 36 products are as wide as its tiles: under two 32-column tiles each they run mostly on
        // padding (14×14's 16 tiles as 8 + 8 took twice as long as the phase-by-phase split, which gives each
        // product all 16 columns).
        if (!SplitByParts || parts < 2 || groups < parts || tiles < MinPartTiles * parts) return 1;
        long largest = 0;
        for (int p = 0; p < parts; p++)
        {
            var (lo, hi) = PartTiles(p, parts, groups, group, tilesY, tilesX);
            largest = Math.Max(largest, hi - lo);
        }
        return largest * parts <= PartImbalance * tiles ? parts : 1;
    }

    /// <summary>Fewest tiles per part (<see cref="Parts"/>).</summary>
    private const int MinPartTiles = 64;

    /// <summary>Part <paramref name="p"/>'s tiles: whole tile-row groups, [lo, hi) in row-major tile order.</summary>
    private static (int Lo, int Hi) PartTiles(int p, int parts, int groups, int group, int tilesY, int tilesX)
    {
        int g0 = (int)((long)groups * p / parts), g1 = (int)((long)groups * (p + 1) / parts);
        return (Math.Min(g0 * group, tilesY) * tilesX, Math.Min(g1 * group, tilesY) * tilesX);
    }

    /// <summary>
    /// One thread's part of the whole convolution: a band of tile rows taken through all three steps — input
    /// transform, the 36 products on its columns of V, output transform — with its V and O in the thread's own
    /// scratch (<see cref="ThreadScratch"/>), which no other thread ever writes. The phase-by-phase split hands each step's items out afresh, so every thread
    /// reads half of V and O from the other core's cache; when the host places the two vCPUs on distant cores (a core
    /// round trip of 400-500 ns instead of ~100) those reads and the writes to shared lines made each half of the
    /// work as slow as the whole on one thread. Here only the band's two halo input rows cross. Results do not
    /// depend on the split: every tile's transforms and every column's products are the same.
    /// </summary>
    private struct PartBody : IParallelBody
    {
        public InputBody Input;
        public OutputBody Output;
        public PackedMatrix[] U;
        public int Groups, Parts;

        public void Invoke(int part)
        {
            var input = Input;
            var output = Output;
            int group = input.Group, ty = input.TilesY, tx = input.TilesX, c = input.S.InChannels, m = input.S.OutChannels;
            var (lo, hi) = PartTiles(part, Parts, Groups, group, ty, tx);
            int tiles = hi - lo;
            if (tiles <= 0) return;
            float* v = ThreadScratch.Get(RegionFloats(input.S, tiles));
            float* o = v + Align16((long)Xi * c * tiles) + Lanes;
            input.V = v; input.TileLo = lo; input.RowStride = tiles;
            output.O = o; output.TileLo = lo; output.RowStride = tiles;
            int g0 = (int)((long)Groups * part / Parts), g1 = (int)((long)Groups * (part + 1) / Parts);
            for (int ci = 0; ci < c; ci++)
                for (int g = g0; g < g1; g++) input.Invoke(ci * Groups + g);
            var gemm = new GemmBody { U = U, V = v, O = o, C = c, M = m, T = tiles };
            for (int xi = 0; xi < Xi; xi++) gemm.Invoke(xi);
            for (int mo = 0; mo < m; mo++)
                for (int g = g0; g < g1; g++) output.Invoke(mo * Groups + g);
        }
    }

    /// <summary>
    /// Tile rows that share one 16-lane vector in the transforms. A row of fewer than 15 tiles would leave most lanes
    /// idle (a 14×14 image has 4 tiles across: 25% of each vector), so small images put several tile rows side by
    /// side, each in TilesX + 1 lanes (the extra lane holds the tile past the row's end that patch columns 4 and 5
    /// read); the transforms' results are compressed to, and expanded from, the contiguous tiles of V and O.
    /// </summary>
    private static int RowsPerGroup(int tilesX) => tilesX + 1 < Lanes ? Lanes / (tilesX + 1) : 1;

    /// <summary>Whether small images group tile rows (<see cref="RowsPerGroup"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool GroupTileRows = true;

    /// <summary>Whether grouped tile rows split their input rows with permutes (else element by element); a switch for A/B.</summary>
    internal static bool VectorGroupedSplit = true;

    /// <summary>Lanes holding a real tile when <paramref name="rows"/> tile rows of <paramref name="tilesX"/> tiles share a vector.</summary>
    private static Vector512<float> GroupLanes(int tilesX, int rows)
    {
        var lane = Vector512<int>.Indices;
        var slot = lane - (lane / Vector512.Create(tilesX + 1)) * Vector512.Create(tilesX + 1);
        return (Vector512.LessThan(slot, Vector512.Create(tilesX)) & Vector512.LessThan(lane, Vector512.Create(rows * (tilesX + 1)))).AsSingle();
    }

    /// <summary>One (channel, tile row): split the 6 input rows into column phases, then Bᵀ d B for 16 tiles at a time.</summary>
    private struct InputBody : IParallelBody
    {
        public ConvShape S;
        public float* X, V;
        public int TilesY, TilesX, Group;
        /// <summary>V's layout: its rows hold tiles [TileLo, TileLo + RowStride) — all of them, or one part's (<see cref="PartBody"/>).</summary>
        public int TileLo, RowStride;

        [SkipLocalsInit]
        public void Invoke(int index)
        {
            if (Group > 1) { InvokeGrouped(index); return; }
            int ci = index / TilesY, tyi = index - ci * TilesY;
            int width = (TilesX + Lanes - 1) / Lanes * Lanes + Lanes; // phases read up to one tile past each 16-tile chunk
            int ih = S.InHeight, iw = S.InWidth;
            float* plane = X + (long)ci * ih * iw;
            // phase[r][p][t] = x[4·ty − padTop + r][4·t + p − padLeft], zero outside the image: each input row is copied
            // into a zero-margined row (shifted by padLeft) and split into its column phases 64 floats at a time.
            float* phase = stackalloc float[Alpha * 4 * width];
            float* row = stackalloc float[4 * width];
            int copy = Math.Min(iw, 4 * width - S.PadLeft);
            new Span<float>(row, S.PadLeft).Clear();
            new Span<float>(row + S.PadLeft + copy, 4 * width - S.PadLeft - copy).Clear();
            for (int r = 0; r < Alpha; r++)
            {
                int iy = 4 * tyi - S.PadTop + r;
                float* dst = phase + r * 4 * width;
                if ((uint)iy >= (uint)ih) { new Span<float>(dst, 4 * width).Clear(); continue; }
                new ReadOnlySpan<float>(plane + (long)iy * iw, copy).CopyTo(new Span<float>(row + S.PadLeft, copy));
                for (int c = 0; c < width; c += Lanes) ColumnPhases.Split(row + 4 * c, dst + c, width);
            }
            long xiStride = (long)S.InChannels * RowStride;
            float* vBase = V + (long)ci * RowStride + ((long)tyi * TilesX - TileLo);
            var tmp = stackalloc Vector512<float>[Alpha * Alpha];
            var d = stackalloc Vector512<float>[Alpha * Alpha];
            for (int t0 = 0; t0 < TilesX; t0 += Lanes)
            {
                Transform(phase, width, t0, tmp, d);
                int valid = Math.Min(Lanes, TilesX - t0);
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(valid)).AsSingle();
                for (int xi = 0; xi < Xi; xi++) Put(vBase + t0 + xi * xiStride, d[xi], mask, valid);
            }
        }

        /// <summary>Several tile rows side by side in one vector (<see cref="RowsPerGroup"/>); results compressed into V.</summary>
        [SkipLocalsInit]
        private readonly void InvokeGrouped(int index)
        {
            int groups = (TilesY + Group - 1) / Group;
            int ci = index / groups, ty0 = (index - ci * groups) * Group, rows = Math.Min(Group, TilesY - ty0);
            int ih = S.InHeight, iw = S.InWidth, slots = TilesX + 1;
            const int width = 2 * Lanes; // the vertical pass reads one lane past the 16
            float* plane = X + (long)ci * ih * iw;
            float* phase = stackalloc float[Alpha * 4 * width];
            new Span<float>(phase, Alpha * 4 * width).Clear();
            if (VectorGroupedSplit && iw + S.PadLeft <= 4 * Lanes)
            {
                // Each input row into a zero-margined 64-float row (shifted by padLeft), then split into its column
                // phases with permutes: 16 lanes per phase at this tile row's slots. The lanes past its slots are
                // zeros (past the image), and the next tile row's split overwrites them with its own.
                float* row = stackalloc float[4 * Lanes];
                new Span<float>(row, 4 * Lanes).Clear();
                for (int g = 0; g < rows; g++)
                    for (int r = 0; r < Alpha; r++)
                    {
                        int iy = 4 * (ty0 + g) - S.PadTop + r;
                        if ((uint)iy >= (uint)ih) continue;
                        new ReadOnlySpan<float>(plane + (long)iy * iw, iw).CopyTo(new Span<float>(row + S.PadLeft, iw));
                        ColumnPhases.Split(row, phase + r * 4 * width + g * slots, width);
                    }
            }
            else
                for (int g = 0; g < rows; g++)
                    for (int r = 0; r < Alpha; r++)
                    {
                        int iy = 4 * (ty0 + g) - S.PadTop + r;
                        if ((uint)iy >= (uint)ih) continue;
                        float* src = plane + (long)iy * iw;
                        for (int p = 0; p < 4; p++)
                        {
                            float* dst = phase + (r * 4 + p) * width + g * slots;
                            int off = p - S.PadLeft;
                            for (int t = 0; t < slots; t++)
                            {
                                int ix = 4 * t + off;
                                dst[t] = (uint)ix < (uint)iw ? src[ix] : 0f;
                            }
                        }
                    }
            var tmp = stackalloc Vector512<float>[Alpha * Alpha];
            var d = stackalloc Vector512<float>[Alpha * Alpha];
            Transform(phase, width, 0, tmp, d);
            long xiStride = (long)S.InChannels * RowStride;
            float* vBase = V + (long)ci * RowStride + ((long)ty0 * TilesX - TileLo);
            var lanes = GroupLanes(TilesX, rows);
            int count = rows * TilesX;
            var first = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
            for (int xi = 0; xi < Xi; xi++)
                Avx512F.MaskStore(vBase + xi * xiStride, first, Avx512F.Compress(Vector512<float>.Zero, lanes, d[xi]));
        }
    }

    /// <summary>
    /// Bᵀ d B for the 16 lanes at <paramref name="t0"/> of a phase-split patch buffer ([row][phase][lane], rows
    /// 4·<paramref name="width"/> apart): column q of a patch is phase q mod 4 shifted by q / 4 lanes.
    /// <paramref name="d"/>[6i + j] receives transformed point (i, j).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transform(float* phase, int width, int t0, Vector512<float>* tmp, Vector512<float>* d)
    {
        for (int q = 0; q < Alpha; q++)
        {
            float* col = phase + (q & 3) * width + t0 + (q >> 2);
            BtRows(Vector512.Load(col), Vector512.Load(col + 4 * width), Vector512.Load(col + 8 * width),
                Vector512.Load(col + 12 * width), Vector512.Load(col + 16 * width), Vector512.Load(col + 20 * width),
                out tmp[q], out tmp[6 + q], out tmp[12 + q], out tmp[18 + q], out tmp[24 + q], out tmp[30 + q]);
        }
        for (int i = 0; i < Alpha; i++)
            BtRows(tmp[i * 6], tmp[i * 6 + 1], tmp[i * 6 + 2], tmp[i * 6 + 3], tmp[i * 6 + 4], tmp[i * 6 + 5],
                out d[i * 6], out d[i * 6 + 1], out d[i * 6 + 2], out d[i * 6 + 3], out d[i * 6 + 4], out d[i * 6 + 5]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* dst, Vector512<float> v, Vector512<float> mask, int valid)
    {
        if (valid == Lanes) Vector512.Store(v, dst);
        else Avx512F.MaskStore(dst, mask, v);
    }

    /// <summary>Bᵀ applied to a column (d0..d5) of 16-lane vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BtRows(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5,
        out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2, out Vector512<float> r3, out Vector512<float> r4, out Vector512<float> r5)
    {
        var four = Vector512.Create(4f);
        var five = Vector512.Create(5f);
        var two = Vector512.Create(2f);
        // r0 = 4d0 − 5d2 + d4;  r5 = 4d1 − 5d3 + d5
        r0 = Avx512F.FusedMultiplyAdd(four, d0, Avx512F.FusedMultiplyAddNegated(five, d2, d4));
        r5 = Avx512F.FusedMultiplyAdd(four, d1, Avx512F.FusedMultiplyAddNegated(five, d3, d5));
        // r1,2 = ∓4(d1 + d2)… : r1 = −4d1 − 4d2 + d3 + d4, r2 = 4d1 − 4d2 − d3 + d4
        var a = Avx512F.FusedMultiplyAddNegated(four, d2, d4); // d4 − 4d2
        var b = Avx512F.FusedMultiplyAddNegated(four, d1, d3); // d3 − 4d1
        r1 = a + b;
        r2 = a - b;
        // r3 = −2d1 − d2 + 2d3 + d4, r4 = 2d1 − d2 − 2d3 + d4
        var e = d4 - d2;
        var f = two * (d3 - d1);
        r3 = e + f;
        r4 = e - f;
    }

    /// <summary>The 36 products, each a serial packed GEMM (so the split over threads cannot change any result).</summary>
    private struct GemmBody : IParallelBody
    {
        public PackedMatrix[] U;
        public float* V, O;
        /// <summary>Tiles per row of V and O: T, or one part's.</summary>
        public int C, M, T;

        public void Invoke(int xi)
        {
            float* v = V + (long)xi * C * T;
            float* o = O + (long)xi * M * T;
            Sgemm.MultiplyPackedA(U[xi], T, v, T, o, T, default, WorkerPool.Serial);
        }
    }

    /// <summary>One (output channel, tile row): Aᵀ O A for 16 tiles at a time, interleaved back into 4 output rows, then the epilogue.</summary>
    private struct OutputBody : IParallelBody
    {
        public ConvShape S;
        public float* O, Y, Residual, Bias;
        public Activation Activation;
        public int TilesY, TilesX, Group;
        /// <summary>O's layout, as <see cref="InputBody.TileLo"/>.</summary>
        public int TileLo, RowStride;

        [SkipLocalsInit]
        public void Invoke(int index)
        {
            int groups = (TilesY + Group - 1) / Group;
            int mo = index / groups, ty0 = (index - mo * groups) * Group, tileRows = Math.Min(Group, TilesY - ty0);
            int oh = S.OutHeight, ow = S.OutWidth;
            long xiStride = (long)S.OutChannels * RowStride;
            float* src = O + (long)mo * RowStride + ((long)ty0 * TilesX - TileLo);
            var bias = Vector512.Create(Bias != null ? Bias[mo] : 0f);
            var o = stackalloc Vector512<float>[Xi];
            var y = stackalloc Vector512<float>[4 * 4];
            var scratch = stackalloc Vector512<float>[Alpha * 4];
            float* yPlane = Y + (long)mo * oh * ow;
            if (Group > 1)
            {
                // Several tile rows side by side (RowsPerGroup): their contiguous tiles of O expanded into each row's lanes.
                var lanes = GroupLanes(TilesX, tileRows);
                var first = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(tileRows * TilesX)).AsSingle();
                for (int xi = 0; xi < Xi; xi++)
                    o[xi] = Avx512F.Expand(Vector512<float>.Zero, lanes, Avx512F.MaskLoad(src + xi * xiStride, first, Vector512<float>.Zero));
                Transform(o, bias, scratch, y);
                for (int g = 0; g < tileRows; g++)
                {
                    // This row's lanes moved to the front, then its 4 output rows written.
                    var own = (Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(g * (TilesX + 1)))
                        & Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(g * (TilesX + 1) + TilesX))).AsSingle();
                    int outRow = 4 * (ty0 + g), rows = Math.Min(4, oh - outRow), cols = Math.Min(4 * TilesX, ow);
                    for (int a = 0; a < rows; a++)
                        ColumnPhases.Merge(Avx512F.Compress(Vector512<float>.Zero, own, y[a * 4]), Avx512F.Compress(Vector512<float>.Zero, own, y[a * 4 + 1]),
                            Avx512F.Compress(Vector512<float>.Zero, own, y[a * 4 + 2]), Avx512F.Compress(Vector512<float>.Zero, own, y[a * 4 + 3]),
                            yPlane + (long)(outRow + a) * ow, cols);
                }
            }
            else
            {
                for (int t0 = 0; t0 < TilesX; t0 += Lanes)
                {
                    for (int xi = 0; xi < Xi; xi++) o[xi] = Vector512.Load(src + t0 + xi * xiStride);
                    Transform(o, bias, scratch, y);
                    // Merge the 4 column phases back into output rows, cropped at the right and bottom edges.
                    int x0 = 4 * t0, cols = Math.Min(4 * Lanes, ow - x0), rows = Math.Min(4, oh - 4 * ty0);
                    for (int a = 0; a < rows; a++)
                        ColumnPhases.Merge(y[a * 4], y[a * 4 + 1], y[a * 4 + 2], y[a * 4 + 3], yPlane + (long)(4 * ty0 + a) * ow + x0, cols);
                }
            }
            // This item's output rows are contiguous in the plane: one pass over all of them. A pass per row cost a call
            // per 14 or 28 floats on the small images (per-step A/B, one thread: 28×28 convs 1-4% faster, 14×14 1.3%).
            int firstRow = 4 * ty0, lastRow = Math.Min(oh, 4 * (ty0 + tileRows)), count = (lastRow - firstRow) * ow;
            long offset = (long)mo * oh * ow + (long)firstRow * ow;
            float* block = Y + offset;
            if (Residual != null)
                System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(block, count), new ReadOnlySpan<float>(Residual + offset, count), new Span<float>(block, count));
            ActivationRow.Apply(block, count, Activation);
        }

        /// <summary>Aᵀ o A (+ bias) for 16 lanes: <paramref name="y"/>[4a + b] is output row a, column phase b; <paramref name="s"/> holds 24 vectors of scratch.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transform(Vector512<float>* o, Vector512<float> bias, Vector512<float>* s, Vector512<float>* y)
        {
            for (int i = 0; i < Alpha; i++)
                AtRows(o[i * 6], o[i * 6 + 1], o[i * 6 + 2], o[i * 6 + 3], o[i * 6 + 4], o[i * 6 + 5], out s[i * 4], out s[i * 4 + 1], out s[i * 4 + 2], out s[i * 4 + 3]);
            for (int b = 0; b < 4; b++)
            {
                AtRows(s[b], s[4 + b], s[8 + b], s[12 + b], s[16 + b], s[20 + b], out var y0, out var y1, out var y2, out var y3);
                y[b] = y0 + bias;
                y[4 + b] = y1 + bias;
                y[8 + b] = y2 + bias;
                y[12 + b] = y3 + bias;
            }
        }
    }

    /// <summary>Aᵀ applied to a column (o0..o5) of 16-lane vectors: 4 outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AtRows(Vector512<float> o0, Vector512<float> o1, Vector512<float> o2, Vector512<float> o3, Vector512<float> o4, Vector512<float> o5,
        out Vector512<float> y0, out Vector512<float> y1, out Vector512<float> y2, out Vector512<float> y3)
    {
        var sum12 = o1 + o2;
        var dif12 = o1 - o2;
        var sum34 = o3 + o4;
        var dif34 = o3 - o4;
        y0 = o0 + sum12 + sum34;
        y1 = Avx512F.FusedMultiplyAdd(Vector512.Create(2f), dif34, dif12);
        y2 = Avx512F.FusedMultiplyAdd(Vector512.Create(4f), sum34, sum12);
        y3 = Avx512F.FusedMultiplyAdd(Vector512.Create(8f), dif34, dif12) + o5;
    }
}
