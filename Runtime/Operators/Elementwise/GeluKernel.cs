using System.Numerics.Tensors;

namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>
/// GELU, 0.5·x·(1 + erf(x/√2)), vectorized: erf from the Abramowitz–Stegun 7.1.26 form
/// 1 − (a₁u + … + a₅u⁵)·e^(−z²), u = 1/(1 + p·z), absolute error below 1.5e-7, evaluated with TensorPrimitives
/// over stack chunks so every pass is SIMD. The error is far below fp32 tolerances of a GELU's output.
/// </summary>
internal static class GeluKernel
{
    private const int Chunk = 256;
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    public static void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> a = stackalloc float[Chunk];
        Span<float> u = stackalloc float[Chunk];
        Span<float> e = stackalloc float[Chunk];
        Span<float> p = stackalloc float[Chunk];
        for (int start = 0; start < x.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - start);
            var xs = x.Slice(start, n);
            Span<float> az = a[..n], us = u[..n], es = e[..n], ps = p[..n];
            TensorPrimitives.Abs(xs, az);
            TensorPrimitives.Multiply(az, 0.70710678118654752f, az);   // |z| = |x|/√2
            TensorPrimitives.Multiply(az, P, us);
            TensorPrimitives.Add(us, 1f, us);
            TensorPrimitives.Reciprocal(us, us);                        // u = 1/(1 + p|z|)
            TensorPrimitives.Multiply(az, az, es);
            TensorPrimitives.Negate(es, es);
            TensorPrimitives.Exp(es, es);                               // e^(−z²)
            TensorPrimitives.Multiply(us, A5, ps);                      // Horner in u
            TensorPrimitives.Add(ps, A4, ps);
            TensorPrimitives.MultiplyAdd(ps, us, A3, ps);
            TensorPrimitives.MultiplyAdd(ps, us, A2, ps);
            TensorPrimitives.MultiplyAdd(ps, us, A1, ps);
            TensorPrimitives.Multiply(ps, us, ps);
            TensorPrimitives.Multiply(ps, es, ps);                      // 1 − erf(|z|)
            TensorPrimitives.Subtract(1f, ps, ps);                      // erf(|z|)
            // gelu = 0.5·x·(1 + sign(x)·erf(|z|)) = 0.5·(x + |x|·erf(|z|)); y is written last, so it may alias x.
            TensorPrimitives.Abs(xs, us);
            TensorPrimitives.Multiply(us, ps, us);
            var ys = y.Slice(start, n);
            TensorPrimitives.Add(xs, us, ys);
            TensorPrimitives.Multiply(ys, 0.5f, ys);
        }
    }
}
