using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Pooling;

/// <summary>Max and average pooling over NCHW planes, one plane per parallel index.</summary>
public static unsafe class Pool2D
{
    /// <param name="countIncludePad">Average only: divide by the full window including padding (ONNX count_include_pad=1).</param>
    public static void Run(PoolKind kind, in PoolShape s, bool countIncludePad, float* x, float* y, WorkerPool pool)
    {
        var body = new Body { S = s, Kind = kind, CountIncludePad = countIncludePad, X = x, Y = y };
        pool.For(s.Planes, ref body);
    }

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
    /// One plane per index, one output row at a time: for each filter tap whose input row is inside the image,
    /// the valid output columns [lo, hi) are computed once and the row is reduced over them with no bounds
    /// checks — vectorized (TensorPrimitives) for stride 1, a strided gather otherwise. Averages divide by
    /// per-column counts derived from the same ranges.
    /// </summary>
    private struct Body : IParallelBody
    {
        public PoolShape S;
        public PoolKind Kind;
        public bool CountIncludePad;
        public float* X, Y;

        public void Invoke(int p)
        {
            int ih = S.InHeight, iw = S.InWidth, oh = S.OutHeight, ow = S.OutWidth, sw = S.StrideWidth;
            float* xp = X + (long)p * ih * iw, yp = Y + (long)p * oh * ow;
            bool max = Kind == PoolKind.Max;
            for (int oy = 0; oy < oh; oy++)
            {
                float* yr = yp + (long)oy * ow;
                var row = new Span<float>(yr, ow);
                row.Fill(max ? float.NegativeInfinity : 0f);
                int rowsInside = 0, rowsPadded = 0;
                for (int ky = 0; ky < S.KernelHeight; ky++)
                {
                    int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                    if (iy >= -S.PadTop && iy < ih + S.PadBottom) rowsPadded++;
                    if ((uint)iy >= (uint)ih) continue;
                    rowsInside++;
                    float* xr = xp + (long)iy * iw;
                    for (int kx = 0; kx < S.KernelWidth; kx++)
                    {
                        int off = kx * S.DilationWidth - S.PadLeft;
                        Range(off, iw, sw, ow, out int lo, out int hi);
                        if (lo >= hi) continue;
                        if (sw == 1)
                        {
                            var src = new ReadOnlySpan<float>(xr + off + lo, hi - lo);
                            var dst = row.Slice(lo, hi - lo);
                            if (max) TensorPrimitives.Max(src, dst, dst); else TensorPrimitives.Add(src, dst, dst);
                        }
                        else
                        {
                            float* src = xr + off;
                            int ox = lo;
                            if (sw == 2) ox = Stride2(src, yr, lo, hi, iw - off, max);
                            // Math.Max propagates NaN like TensorPrimitives.Max on the stride-1 path, without a data-dependent branch.
                            if (max) for (; ox < hi; ox++) yr[ox] = MathF.Max(yr[ox], src[ox * sw]);
                            else for (; ox < hi; ox++) yr[ox] += src[ox * sw];
                        }
                    }
                }
                if (max) continue;
                for (int ox = 0; ox < ow; ox++)
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
        }

        /// <summary>
        /// y[ox] = max/sum(y[ox], src[2·ox]) for whole 16-column chunks of [lo, hi) whose two loads stay within the
        /// <paramref name="limit"/> readable elements (AVX-512 two-source permute picks the even elements);
        /// returns where the scalar tail starts.
        /// </summary>
        private static int Stride2(float* src, float* y, int lo, int hi, int limit, bool max)
        {
            int ox = lo;
            if (!Avx512F.IsSupported) return ox;
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            for (; ox + 16 <= hi && 2 * ox + 32 <= limit; ox += 16)
            {
                var v = Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * ox), even, Vector512.Load(src + 2 * ox + 16));
                var d = Vector512.Load(y + ox);
                Vector512.Store(max ? Vector512.Max(d, v) : d + v, y + ox);
            }
            return ox;
        }

        /// <summary>Output columns whose tap ox·stride + off lies inside [0, width).</summary>
        private static void Range(int off, int width, int stride, int outWidth, out int lo, out int hi)
        {
            lo = Math.Min(outWidth, off >= 0 ? 0 : (-off + stride - 1) / stride);
            hi = Math.Max(lo, Math.Min(outWidth, width - off <= 0 ? 0 : (width - off - 1) / stride + 1));
        }
    }
}
