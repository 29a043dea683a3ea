using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Pooling;

/// <summary>Max and average pooling over NCHW planes, one plane per parallel index.</summary>
public static unsafe class Pool2D
{
    /// <param name="countIncludePad">Average only: divide by the full window including padding (ONNX count_include_pad=1).</param>
    public static void Run(PoolKind kind, in PoolShape s, bool countIncludePad, float* x, float* y, WorkerPool pool)
    {
        bool wide = KernelIsa.Current == IsaLevel.Avx512 && Avx512F.IsSupported;
        // A few microseconds of work (a small image's pooling) finishes sooner on one core than it takes to share:
        // the planes were just written by both cores, and each hand-off and cache-line transfer costs more than it saves.
        long work = (long)s.Planes * s.OutHeight * s.OutWidth * s.KernelHeight * s.KernelWidth;
        var runOn = work < SerialWork ? WorkerPool.Serial : pool;
        if (CoversWholePlane(s))
        {
            // One window over the whole unpadded plane (ResNet's final 7×7 average): a plain reduction per plane. The
            // window path set up per plane cost 60 ns for 49 floats (31 µs for 512 planes against 4 here).
            Global(kind, s.Planes, s.InHeight * s.InWidth, x, y, runOn);
            return;
        }
        int bands = Math.Min(runOn.Concurrency, Math.Max(1, s.OutHeight));
        bool max3x3s2 = wide && kind == PoolKind.Max && s.KernelHeight == 3 && s.KernelWidth == 3 && s.StrideHeight == 2 && s.StrideWidth == 2
            && s.DilationHeight == 1 && s.DilationWidth == 1 && s.PadTop <= 1 && s.PadLeft <= 1 && Direct3x3Stride2;
        var body = new Body { S = s, Kind = kind, CountIncludePad = countIncludePad, Wide = wide, X = x, Y = y, Bands = bands, Max3x3Stride2 = max3x3s2 };
        runOn.For(s.Planes * bands, ref body);
    }

    /// <summary>A 1×1 output whose one window is exactly the input plane, without padding or dilation.</summary>
    private static bool CoversWholePlane(in PoolShape s) =>
        s.OutHeight == 1 && s.OutWidth == 1 && s.KernelHeight == s.InHeight && s.KernelWidth == s.InWidth
        && s.PadTop == 0 && s.PadLeft == 0 && s.PadBottom == 0 && s.PadRight == 0 && s.DilationHeight == 1 && s.DilationWidth == 1;

    /// <summary>Whether 3×3 stride-2 max pools take <see cref="Max3x3Stride2Row"/>; a switch for the benchmarks' A/B.</summary>
    internal static bool Direct3x3Stride2 = true;

    /// <summary>Window reads below which a pooling runs on the calling thread alone (about 10 µs of work).</summary>
    private const long SerialWork = 1 << 17;

    /// <summary>Global average or max over each H·W plane: y[plane] = reduce(x[plane, :]).</summary>
    public static void Global(PoolKind kind, int planes, int planeSize, float* x, float* y, WorkerPool pool)
    {
        var body = new GlobalBody { Kind = kind, PlaneSize = planeSize, X = x, Y = y };
        pool.For(planes, ref body);
    }

    private struct GlobalBody : IParallelBody
    {
        public PoolKind Kind;
        public int PlaneSize;
        public float* X, Y;

        public void Invoke(int p)
        {
            var plane = new ReadOnlySpan<float>(X + (long)p * PlaneSize, PlaneSize);
            Y[p] = Kind == PoolKind.Max ? TensorPrimitives.Max(plane) : TensorPrimitives.Sum(plane) / PlaneSize;
        }
    }

    /// <summary>
    /// A 3×3 stride-2 max pool's output row (ResNet's stem pool) straight from the input rows, in registers: for 16
    /// outputs from column c0 = 2·ox − padLeft, the column maxima of the (up to) three input rows at c0 and c0 + 16
    /// give taps 0 and 1 as their even and odd lanes, those at c0 + 2 and c0 + 18 tap 2. Columns outside the image
    /// load as −∞. The general path's reduced row on the stack, stored one float off alignment and read back at
    /// once, stalled every load on the stores before it: 152 µs here for 64 planes of 112×112 on one thread.
    /// Only input rows 2·oy − PadTop … 2·oy − PadTop + 2 inside [0, InHeight) are read (the stem's fused pool passes a
    /// plane of which only those rows are in memory). Needs AVX-512 F.
    /// </summary>
    internal static void Max3x3Stride2Row(in PoolShape S, float* xp, float* yr, int oy)
    {
        int ih = S.InHeight, iw = S.InWidth, ow = S.OutWidth;
        int iy0 = 2 * oy - S.PadTop;
        float* r0 = null, r1 = null, r2 = null;
        int rows = 0;
        for (int ky = 0; ky < 3; ky++)
        {
            int iy = iy0 + ky;
            if ((uint)iy >= (uint)ih) continue;
            float* r = xp + (long)iy * iw;
            if (rows == 0) r0 = r; else if (rows == 1) r1 = r; else r2 = r;
            rows++;
        }
        var lowest = Vector512.Create(float.NegativeInfinity);
        if (rows == 0)
        {
            for (int ox = 0; ox < ow; ox++) yr[ox] = float.NegativeInfinity;
            return;
        }
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        for (int ox = 0; ox < ow; ox += 16)
        {
            int c0 = 2 * ox - S.PadLeft;
            var v0 = ColumnMax(r0, r1, r2, rows, c0, iw, lowest);
            var v1 = ColumnMax(r0, r1, r2, rows, c0 + 16, iw, lowest);
            var w0 = ColumnMax(r0, r1, r2, rows, c0 + 2, iw, lowest);
            var w1 = ColumnMax(r0, r1, r2, rows, c0 + 18, iw, lowest);
            var m = Vector512.Max(Vector512.Max(Avx512F.PermuteVar16x32x2(v0, even, v1), Avx512F.PermuteVar16x32x2(v0, odd, v1)),
                Avx512F.PermuteVar16x32x2(w0, even, w1));
            if (ow - ox >= 16) Vector512.Store(m, yr + ox);
            else Avx512F.MaskStore(yr + ox, TailMask(ow - ox), m);
        }
    }

    /// <summary>
    /// A 2×2 stride-2 max pool's output row (no padding, floor rounding) from input rows 2·oy and 2·oy + 1: their
    /// column maxima at c0 = 2·ox and c0 + 16, then the even and odd lanes. Columns past the row load as −∞. Needs AVX-512 F.
    /// </summary>
    internal static void Max2x2Stride2Row(in PoolShape S, float* xp, float* yr, int oy)
    {
        int iw = S.InWidth, ow = S.OutWidth;
        float* r0 = xp + (long)2 * oy * iw, r1 = r0 + iw;
        var lowest = Vector512.Create(float.NegativeInfinity);
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        for (int ox = 0; ox < ow; ox += 16)
        {
            var v0 = ColumnMax(r0, r1, null, 2, 2 * ox, iw, lowest);
            var v1 = ColumnMax(r0, r1, null, 2, 2 * ox + 16, iw, lowest);
            var m = Vector512.Max(Avx512F.PermuteVar16x32x2(v0, even, v1), Avx512F.PermuteVar16x32x2(v0, odd, v1));
            if (ow - ox >= 16) Vector512.Store(m, yr + ox);
            else Avx512F.MaskStore(yr + ox, TailMask(ow - ox), m);
        }
    }

    /// <summary>Max over the given rows of columns [c, c + 16), −∞ for columns outside [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ColumnMax(float* r0, float* r1, float* r2, int rows, int c, int width, Vector512<float> lowest)
    {
        if (c >= 0 && c + 16 <= width)
        {
            var a = Vector512.Load(r0 + c);
            if (rows > 1) a = Vector512.Max(a, Vector512.Load(r1 + c));
            if (rows > 2) a = Vector512.Max(a, Vector512.Load(r2 + c));
            return a;
        }
        var lane = Vector512<int>.Indices + Vector512.Create(c);
        var inside = (Vector512.GreaterThanOrEqual(lane, Vector512<int>.Zero) & Vector512.LessThan(lane, Vector512.Create(width))).AsSingle();
        // Masked-off lanes are never read, so the address may lie outside the row.
        var m = Avx512F.MaskLoad(r0 + c, inside, lowest);
        if (rows > 1) m = Vector512.Max(m, Avx512F.MaskLoad(r1 + c, inside, lowest));
        if (rows > 2) m = Vector512.Max(m, Avx512F.MaskLoad(r2 + c, inside, lowest));
        return m;
    }

    /// <summary>All-ones in the first <paramref name="count"/> (&lt; 16) lanes.</summary>
    private static Vector512<float> TailMask(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();

    /// <summary>
    /// One band of output rows of one plane per index, band-major: with one band per thread, each thread pools the
    /// same rows of every plane, the rows the convolutions around it write and read on that thread (see
    /// <see cref="Convolution.Im2Col"/>), so no plane is read from the other core's cache. One output row at a time,
    /// in two passes that need no bounds checks:
    /// (1) the kernel's input rows that lie inside the image are reduced into a stack row that holds the input
    /// columns at offset PadLeft and the reduction's identity (−∞ or 0) everywhere else, so padding, ceil-mode
    /// overhang and vector over-reads all read identity; (2) each filter column is reduced from that row into an
    /// output row rounded up to whole vectors — AVX-512 takes stride 2 by a two-source permute of two loads.
    /// Averages then divide by per-column counts. Rows too wide for the stack use <see cref="ReduceRowChecked"/>.
    /// </summary>
    private struct Body : IParallelBody
    {
        /// <summary>Widest padded input row (floats) reduced on the stack (16 KiB).</summary>
        private const int MaxStackRow = 4096;

        public PoolShape S;
        public PoolKind Kind;
        public bool CountIncludePad, Wide;
        public float* X, Y;
        public int Bands;
        public bool Max3x3Stride2;

        public void Invoke(int index)
        {
            int band = index / S.Planes, p = index - band * S.Planes;
            int ih = S.InHeight, iw = S.InWidth, oh = S.OutHeight, ow = S.OutWidth;
            int oy0 = (int)((long)oh * band / Bands), oy1 = (int)((long)oh * (band + 1) / Bands);
            float* xp = X + (long)p * ih * iw, yp = Y + (long)p * oh * ow;
            if (Max3x3Stride2)
            {
                for (int oy = oy0; oy < oy1; oy++) Max3x3Stride2Row(S, xp, yp + (long)oy * ow, oy);
                return;
            }
            bool max = Kind == PoolKind.Max;
            int outLen = (ow + 15) & ~15;
            int rowLen = Math.Max(S.PadLeft + ((iw + 15) & ~15), (S.KernelWidth - 1) * S.DilationWidth + (outLen - 1) * S.StrideWidth + 1) + 32;
            bool onStack = rowLen <= MaxStackRow;
            float* row = stackalloc float[onStack ? rowLen : 0];
            float* acc = stackalloc float[onStack ? outLen : 0];
            float identity = max ? float.NegativeInfinity : 0f;
            if (onStack) new Span<float>(row, rowLen).Fill(identity);
            for (int oy = oy0; oy < oy1; oy++)
            {
                float* yr = yp + (long)oy * ow;
                int rowsInside = 0, rowsPadded = 0;
                for (int ky = 0; ky < S.KernelHeight; ky++)
                {
                    int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                    if (iy >= -S.PadTop && iy < ih + S.PadBottom) rowsPadded++;
                    if ((uint)iy >= (uint)ih) continue;
                    rowsInside++;
                    if (!onStack) continue;
                    if (Wide) { VerticalWide(xp + (long)iy * iw, row + S.PadLeft, iw, rowsInside == 1, max); continue; }
                    var src = new ReadOnlySpan<float>(xp + (long)iy * iw, iw);
                    var dst = new Span<float>(row + S.PadLeft, iw);
                    if (rowsInside == 1) src.CopyTo(dst);
                    else if (max) TensorPrimitives.Max(src, dst, dst);
                    else TensorPrimitives.Add(src, dst, dst);
                }
                if (!onStack) ReduceRowChecked(xp, yr, oy, max);
                else if (rowsInside == 0) new Span<float>(yr, ow).Fill(identity);
                else if (Wide && S.StrideWidth <= 2) ColumnsWide(row, yr, ow, max);
                else
                {
                    ReduceColumns(row, acc, outLen, max, identity);
                    new ReadOnlySpan<float>(acc, ow).CopyTo(new Span<float>(yr, ow));
                }
                if (!max) Divide(yr, rowsInside, rowsPadded);
            }
        }

        /// <summary>
        /// AVX-512: row[0, iw) = (first ? x : reduce(row, x)), in whole vectors; the lanes past iw load the identity
        /// (masked load, which never touches memory past the input row), so the row's right margin stays identity.
        /// </summary>
        private static void VerticalWide(float* x, float* row, int iw, bool first, bool max)
        {
            var identity = Vector512.Create(max ? float.NegativeInfinity : 0f);
            for (int i = 0; i < iw; i += 16)
            {
                var v = iw - i >= 16 ? Vector512.Load(x + i) : Avx512F.MaskLoad(x + i, TailMask(iw - i), identity);
                if (!first)
                {
                    var r = Vector512.Load(row + i);
                    v = max ? Vector512.Max(r, v) : r + v;
                }
                Vector512.Store(v, row + i);
            }
        }

        /// <summary>AVX-512: y[ox] = reduce over kx of row[ox·stride + kx·dilation] for strides 1 and 2 (a permute
        /// of two loads); the last partial vector is stored under a mask.</summary>
        private readonly void ColumnsWide(float* row, float* y, int ow, bool max)
        {
            int sw = S.StrideWidth, kw = S.KernelWidth, dw = S.DilationWidth;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (int ox = 0; ox < ow; ox += 16)
            {
                float* src = row + (long)ox * sw;
                Vector512<float> a = default;
                for (int kx = 0; kx < kw; kx++, src += dw)
                {
                    var v = sw == 1 ? Vector512.Load(src) : Avx512F.PermuteVar16x32x2(Vector512.Load(src), even, Vector512.Load(src + 16));
                    a = kx == 0 ? v : max ? Vector512.Max(a, v) : a + v;
                }
                if (ow - ox >= 16) Vector512.Store(a, y + ox);
                else Avx512F.MaskStore(y + ox, TailMask(ow - ox), a);
            }
        }

        /// <summary>acc[ox] = reduce over kx of row[ox·stride + kx·dilation], for whole vectors of output columns (below AVX-512, or strides past 2).</summary>
        private readonly void ReduceColumns(float* row, float* acc, int outLen, bool max, float identity)
        {
            int sw = S.StrideWidth;
            new Span<float>(acc, outLen).Fill(identity);
            for (int kx = 0; kx < S.KernelWidth; kx++)
            {
                float* src = row + kx * S.DilationWidth;
                if (sw == 1)
                {
                    var s = new ReadOnlySpan<float>(src, outLen);
                    var d = new Span<float>(acc, outLen);
                    if (max) TensorPrimitives.Max(s, d, d); else TensorPrimitives.Add(s, d, d);
                }
                else if (max) for (int ox = 0; ox < outLen; ox++) acc[ox] = MathF.Max(acc[ox], src[ox * sw]);
                else for (int ox = 0; ox < outLen; ox++) acc[ox] += src[ox * sw];
            }
        }

        /// <summary>Averages: divide each column by the cells its window counts (inside the image, or inside the pads too).</summary>
        private readonly void Divide(float* yr, int rowsInside, int rowsPadded)
        {
            int iw = S.InWidth, sw = S.StrideWidth;
            for (int ox = 0; ox < S.OutWidth; ox++)
            {
                int cols = 0;
                for (int kx = 0; kx < S.KernelWidth; kx++)
                {
                    int ix = ox * sw - S.PadLeft + kx * S.DilationWidth;
                    if (CountIncludePad ? ix >= -S.PadLeft && ix < iw + S.PadRight : (uint)ix < (uint)iw) cols++;
                }
                int divisor = (CountIncludePad ? rowsPadded : rowsInside) * cols;
                yr[ox] = divisor > 0 ? yr[ox] / divisor : 0f;
            }
        }

        /// <summary>
        /// Rows too wide for the stack: for each tap whose input row is inside the image, the valid output columns
        /// [lo, hi) are computed once and reduced straight from the input (vectorized for stride 1, scalar otherwise).
        /// </summary>
        private readonly void ReduceRowChecked(float* xp, float* yr, int oy, bool max)
        {
            int ih = S.InHeight, iw = S.InWidth, ow = S.OutWidth, sw = S.StrideWidth;
            var yrow = new Span<float>(yr, ow);
            yrow.Fill(max ? float.NegativeInfinity : 0f);
            for (int ky = 0; ky < S.KernelHeight; ky++)
            {
                int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                if ((uint)iy >= (uint)ih) continue;
                float* xr = xp + (long)iy * iw;
                for (int kx = 0; kx < S.KernelWidth; kx++)
                {
                    int off = kx * S.DilationWidth - S.PadLeft;
                    Range(off, iw, sw, ow, out int lo, out int hi);
                    if (lo >= hi) continue;
                    if (sw == 1)
                    {
                        var src = new ReadOnlySpan<float>(xr + off + lo, hi - lo);
                        var dst = yrow.Slice(lo, hi - lo);
                        if (max) TensorPrimitives.Max(src, dst, dst); else TensorPrimitives.Add(src, dst, dst);
                    }
                    // Math.Max propagates NaN like TensorPrimitives.Max, without a data-dependent branch.
                    else if (max) for (int ox = lo; ox < hi; ox++) yr[ox] = MathF.Max(yr[ox], xr[off + ox * sw]);
                    else for (int ox = lo; ox < hi; ox++) yr[ox] += xr[off + ox * sw];
                }
            }
        }

        /// <summary>Output columns whose tap ox·stride + off lies inside [0, width).</summary>
        private static void Range(int off, int width, int stride, int outWidth, out int lo, out int hi)
        {
            lo = Math.Min(outWidth, off >= 0 ? 0 : (-off + stride - 1) / stride);
            hi = Math.Max(lo, Math.Min(outWidth, width - off <= 0 ? 0 : (width - off - 1) / stride + 1));
        }
    }
}
