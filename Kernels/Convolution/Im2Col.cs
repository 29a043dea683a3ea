using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Unfolds one image's group of channels into the column matrix col[(c·KH+ky)·KW+kx, oy·OW+ox], writing
/// zeros where the kernel covers padding, so the convolution becomes one GEMM. Parallel over (band of output
/// rows, channel, filter row), band-major with one band per thread: each thread unfolds the rows whose input it
/// (or the layer before, split the same way) wrote, and the GEMM's per-thread column slices then read mostly
/// columns their own thread wrote — with the two vCPUs on distant cores, reading the other core's lines is what
/// kept 2-thread runs from scaling. For each filter column the valid output range is computed once, so the copy
/// loop has no bounds checks (a block copy for stride 1, a strided gather otherwise — which is also how a
/// strided 1×1 convolution is gathered).
/// </summary>
public static unsafe class Im2Col
{
    /// <summary>
    /// Output rows [<paramref name="oy0"/>, <paramref name="oy1"/>) alone, on the calling thread, into a column matrix of
    /// their own: col[k, (oy − oy0)·OW + ox], rows (oy1 − oy0)·OW apart.
    /// </summary>
    public static void RunRows(in ConvShape s, float* x, float* col, int oy0, int oy1) => RunRows(s, x, col, oy0, oy1, 0, s.InChannelsPerGroup);

    /// <summary>
    /// Output rows [<paramref name="oy0"/>, <paramref name="oy1"/>) of input channels [<paramref name="c0"/>,
    /// <paramref name="c1"/>) alone: the column matrix's rows for those channels, the first at col.
    /// </summary>
    public static void RunRows(in ConvShape s, float* x, float* col, int oy0, int oy1, int c0, int c1)
    {
        long rowStride = (long)(oy1 - oy0) * s.OutWidth;
        // Unfold places channel c's rows at c·KH·KW rows from its base: the base sits c0 channels before col.
        float* basePtr = col - (long)c0 * s.KernelHeight * s.KernelWidth * rowStride;
        for (int c = c0; c < c1; c++)
            for (int ky = 0; ky < s.KernelHeight; ky++)
                Unfold(s, x, basePtr, c, ky, oy0, oy1, rowStride, oy0);
    }

    /// <summary>Whether AVX-512 unfolds rows with masked vectors (<see cref="MaskedRow"/>); a switch for the benchmarks' A/B.</summary>
    internal static bool VectorRows = true;

    public static void Run(in ConvShape s, float* x, float* col, WorkerPool pool)
    {
        int bands = Math.Min(pool.Concurrency, Math.Max(1, s.OutHeight));
        var body = new Body { S = s, X = x, Col = col, Bands = bands };
        pool.For(bands * s.InChannelsPerGroup * s.KernelHeight, ref body);
    }

    /// <summary>
    /// row[ox] = src[2·ox] for ox in [lo, hi): 16 outputs from two loads and one two-source permute where the
    /// loads stay inside the row (<paramref name="limit"/> elements readable from src), scalar elsewhere.
    /// </summary>
    private static void Gather2(float* src, float* row, int lo, int hi, int limit)
    {
        int ox = lo;
        if (Avx512F.IsSupported)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; ox + 16 <= hi && 2 * ox + 32 <= limit; ox += 16)
                Vector512.Store(Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * ox), even, Vector512.Load(src + 2 * ox + 16)), row + ox);
        }
        for (; ox < hi; ox++) row[ox] = src[2 * ox];
    }

    /// <summary>
    /// row[ox] = src[off + ox] for ox &lt; ow, zero where off + ox falls outside [0, iw): one masked load and one store
    /// per 16 outputs, whole vectors up to <paramref name="limit"/> floats from the row's start (masked past it). Per-row block copies cost
    /// ~4 ns a row whatever its length, and ResNet's 7-pixel rows made layer4's im2col 132 µs (6.9 GB/s).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaskedRow(float* src, float* row, int off, int iw, int ow, int limit)
    {
        for (int ox = 0; ox < ow; ox += 16)
        {
            var lane = Vector512<int>.Indices + Vector512.Create(ox);
            var e = lane + Vector512.Create(off);
            var load = Vector512.LessThan(lane, Vector512.Create(ow)) & Vector512.GreaterThanOrEqual(e, Vector512<int>.Zero) & Vector512.LessThan(e, Vector512.Create(iw));
            // Masked-off lanes are never read, so the address may lie outside the row.
            Store(row, ox, limit, Avx512F.MaskLoad(src + off + ox, load.AsSingle(), Vector512<float>.Zero));
        }
    }

    /// <summary>row[ox] = src[off + 2·ox] (stride 2), zero outside the row: two masked loads and a two-source permute per 16 outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaskedRow2(float* src, float* row, int off, int iw, int ow, int limit)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var width = Vector512.Create(iw);
        for (int ox = 0; ox < ow; ox += 16)
        {
            int first = off + 2 * ox;
            var e = Vector512<int>.Indices + Vector512.Create(first);
            var e2 = e + Vector512.Create(16);
            var lo = Vector512.GreaterThanOrEqual(e, Vector512<int>.Zero) & Vector512.LessThan(e, width);
            var hi = Vector512.GreaterThanOrEqual(e2, Vector512<int>.Zero) & Vector512.LessThan(e2, width);
            var a = Avx512F.MaskLoad(src + first, lo.AsSingle(), Vector512<float>.Zero);
            var b = Avx512F.MaskLoad(src + first + 16, hi.AsSingle(), Vector512<float>.Zero);
            Store(row, ox, limit, Avx512F.PermuteVar16x32x2(a, even, b));
        }
    }

    private static void ZeroRow(float* row, int ow, int limit)
    {
        for (int ox = 0; ox < ow; ox += 16) Store(row, ox, limit, Vector512<float>.Zero);
    }

    /// <summary>row[ox .. ox + 16) = v, only the lanes below <paramref name="limit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, int ox, int limit, Vector512<float> v)
    {
        if (limit - ox >= 16) Vector512.Store(v, row + ox);
        else Avx512F.MaskStore(row + ox, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(limit - ox)).AsSingle(), v);
    }

    private struct Body : IParallelBody
    {
        public ConvShape S;
        public float* X, Col;
        public int Bands;

        public void Invoke(int index)
        {
            int perBand = S.InChannelsPerGroup * S.KernelHeight, band = index / perBand;
            index -= band * perBand;
            int c = index / S.KernelHeight, ky = index - c * S.KernelHeight;
            int oh = S.OutHeight;
            Unfold(S, X, Col, c, ky, (int)((long)oh * band / Bands), (int)((long)oh * (band + 1) / Bands), (long)oh * S.OutWidth, 0);
        }
    }

    /// <summary>
    /// Channel <paramref name="c"/>, filter row <paramref name="ky"/>, output rows [oy0, oy1): col row k starts at
    /// col + k·<paramref name="rowStride"/>, output row oy at (oy − <paramref name="firstRow"/>)·OW within it.
    /// </summary>
    private static void Unfold(in ConvShape S, float* X, float* Col, int c, int ky, int oy0, int oy1, long rowStride, int firstRow)
    {
        int ow = S.OutWidth, iw = S.InWidth, sw = S.StrideWidth;
        float* plane = X + (long)c * S.InHeight * iw;
        bool vectors = VectorRows && sw is 1 or 2 && KernelIsa.Current == IsaLevel.Avx512 && Avx512F.IsSupported;
        for (int kx = 0; kx < S.KernelWidth; kx++)
        {
            float* dst = Col + (((long)c * S.KernelHeight + ky) * S.KernelWidth + kx) * rowStride;
            int off = kx * S.DilationWidth - S.PadLeft; // ix = ox·sw + off
            if (vectors)
            {
                for (int oy = oy0; oy < oy1; oy++)
                {
                    int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                    float* row = dst + (long)(oy - firstRow) * ow;
                    // A row may store whole vectors past its end: the rows after it, stored later by this thread,
                    // overwrite the spill. Nothing may land past the band's last row (another band's, or the buffer's end).
                    int limit = (int)Math.Min(int.MaxValue, (long)(oy1 - oy) * ow);
                    if ((uint)iy >= (uint)S.InHeight) ZeroRow(row, ow, limit);
                    else if (sw == 1) MaskedRow(plane + (long)iy * iw, row, off, iw, ow, limit);
                    else MaskedRow2(plane + (long)iy * iw, row, off, iw, ow, limit);
                }
                continue;
            }
            int lo = Math.Min(ow, off >= 0 ? 0 : (-off + sw - 1) / sw);
            int hi = Math.Max(lo, Math.Min(ow, iw - off <= 0 ? 0 : (iw - off - 1) / sw + 1));
            for (int oy = oy0; oy < oy1; oy++)
            {
                int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                float* row = dst + (long)(oy - firstRow) * ow;
                if ((uint)iy >= (uint)S.InHeight) { new Span<float>(row, ow).Clear(); continue; }
                float* src = plane + (long)iy * iw + off;
                for (int ox = 0; ox < lo; ox++) row[ox] = 0f;
                if (sw == 1) Buffer.MemoryCopy(src + lo, row + lo, (hi - lo) * sizeof(float), (hi - lo) * sizeof(float));
                else if (sw == 2) Gather2(src, row, lo, hi, iw - off);
                else for (int ox = lo; ox < hi; ox++) row[ox] = src[ox * sw];
                for (int ox = hi; ox < ow; ox++) row[ox] = 0f;
            }
        }
    }
}
