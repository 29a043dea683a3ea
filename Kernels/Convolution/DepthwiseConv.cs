using System.Numerics;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Direct depthwise convolution (group = C = M, MobileNet style): one plane per parallel index, no
/// im2col and no workspace. Each output row accumulates, per valid filter tap, a scaled input row; the
/// columns whose taps fall in padding are cut off up front (precomputed ranges), so the inner loop is a
/// plain vector FMA over contiguous memory for stride 1 and a bounds-free gather for other strides.
/// </summary>
internal static unsafe class DepthwiseConv
{
    public static void Run(in ConvShape s, ConvWeights w, float* x, float* y, float* residual, Activation activation, WorkerPool pool)
    {
        var body = new Body
        {
            S = s, W = w.Raw.Floats, Bias = w.Bias != null ? w.Bias.Floats : null,
            X = x, Y = y, Residual = residual, Activation = activation,
        };
        pool.For(s.Batch * s.InChannels, ref body);
    }

    private struct Body : IParallelBody
    {
        public ConvShape S;
        public float* W, Bias, X, Y, Residual;
        public Activation Activation;

        public void Invoke(int plane)
        {
            int c = plane % S.InChannels;
            int ih = S.InHeight, iw = S.InWidth, oh = S.OutHeight, ow = S.OutWidth;
            int kh = S.KernelHeight, kw = S.KernelWidth, sw = S.StrideWidth;
            float* xp = X + (long)plane * ih * iw, yp = Y + (long)plane * oh * ow;
            float* wc = W + (long)c * kh * kw;
            float bias = Bias != null ? Bias[c] : 0f;
            for (int oy = 0; oy < oh; oy++)
            {
                float* yr = yp + (long)oy * ow;
                new Span<float>(yr, ow).Fill(bias);
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                    if ((uint)iy >= (uint)ih) continue;
                    float* xr = xp + (long)iy * iw;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int off = kx * S.DilationWidth - S.PadLeft; // ix = ox·sw + off
                        // Valid ox: 0 ≤ ox·sw + off < iw.
                        int lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
                        int hi = Math.Min(ow, iw - off <= 0 ? 0 : (iw - off - 1) / sw + 1);
                        if (lo >= hi) continue;
                        float wv = wc[ky * kw + kx];
                        if (sw == 1) Axpy(wv, xr + off + lo, yr + lo, hi - lo);
                        else
                        {
                            float* src = xr + off;
                            for (int ox = lo; ox < hi; ox++) yr[ox] += wv * src[ox * sw];
                        }
                    }
                }
                if (Residual != null)
                {
                    float* rr = Residual + (long)plane * oh * ow + (long)oy * ow;
                    System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(yr, ow), new ReadOnlySpan<float>(rr, ow), new Span<float>(yr, ow));
                }
                ActivationRow.Apply(yr, ow, Activation);
            }
        }
    }

    /// <summary>y[i] += a·x[i], vectorized with one overlapping-free scalar tail.</summary>
    private static void Axpy(float a, float* x, float* y, int n)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vy = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<Vector<float>>(y + i);
                var vx = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<Vector<float>>(x + i);
                System.Runtime.CompilerServices.Unsafe.WriteUnaligned(y + i, Vector.FusedMultiplyAdd(va, vx, vy));
            }
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(a, x[i], y[i]);
    }
}
