using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FastInfer.Kernels.Elementwise;

/// <summary>
/// GELU, 0.5·x·(1 + erf(x/√2)), vectorized: erf from the Abramowitz–Stegun 7.1.26 form
/// 1 − (a₁u + … + a₅u⁵)·e^(−z²), u = 1/(1 + p·z), absolute error below 1.5e-7, evaluated with TensorPrimitives
/// over stack chunks so every pass is SIMD. The error is far below fp32 tolerances of a GELU's output.
/// The per-vector forms also serve the GEMM epilogue (a GELU fused into a MatMul).
/// </summary>
public static class GeluKernel
{
    private const int Chunk = 256;
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    public static void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<float>.Count) { Row512(x, y); return; }
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count) { Row256(x, y); return; }
        RowChunked(x, y);
    }

    /// <summary>One pass in 512-bit registers; the tail is one overlapping last vector (x and y may alias exactly).</summary>
    private static void Row512(ReadOnlySpan<float> x, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, last = n - Vector512<float>.Count;
        var tail = Gelu512(Vector512.LoadUnsafe(ref xr, (nuint)last));
        for (int i = 0; i < last; i += Vector512<float>.Count)
            Gelu512(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        tail.StoreUnsafe(ref yr, (nuint)last);
    }

    private static void Row256(ReadOnlySpan<float> x, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, last = n - Vector256<float>.Count;
        var tail = Gelu256(Vector256.LoadUnsafe(ref xr, (nuint)last));
        for (int i = 0; i < last; i += Vector256<float>.Count)
            Gelu256(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        tail.StoreUnsafe(ref yr, (nuint)last);
    }

    /// <summary>
    /// The AVX-512 form runs in a GEMM epilogue over every element of a transformer's FFN, so it avoids the two
    /// slow parts of the formula: the division (a 14-bit reciprocal estimate refined by one Newton step, ~2⁻²⁸
    /// relative) and <see cref="Vector512.Exp(Vector512{float})"/>, which computes in double precision
    /// (<see cref="FastExp.NonPositive512"/> instead). Other tiers use the plain operators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu512(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var z = ax * Vector512.Create(0.70710678118654752f);
        var u = Reciprocal512(Vector512.FusedMultiplyAdd(z, Vector512.Create(P), Vector512<float>.One));
        var p = Vector512.FusedMultiplyAdd(u, Vector512.Create(A5), Vector512.Create(A4));
        p = Vector512.FusedMultiplyAdd(p, u, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(p, u, Vector512.Create(A2));
        p = Vector512.FusedMultiplyAdd(p, u, Vector512.Create(A1));
        var erf = Vector512<float>.One - p * u * FastExp.NonPositive512(-(z * z));
        // x·(½ + ½·sign(x)·erf(|z|)): no intermediate overflows for |x| near float's maximum, unlike ½·(x + |x|·erf).
        var signedErf = erf ^ (x & Vector512.Create(-0f));
        return x * Vector512.FusedMultiplyAdd(Vector512.Create(0.5f), signedErf, Vector512.Create(0.5f));
    }

    /// <summary>1/d for d ≥ 1: the hardware's 14-bit estimate and one Newton–Raphson step r·(2 − d·r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reciprocal512(Vector512<float> d)
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return Vector512<float>.One / d;
        var r = System.Runtime.Intrinsics.X86.Avx512F.Reciprocal14(d);
        return r * Vector512.FusedMultiplyAdd(-d, r, Vector512.Create(2f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu256(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var z = ax * Vector256.Create(0.70710678118654752f);
        var u = Vector256<float>.One / Vector256.FusedMultiplyAdd(z, Vector256.Create(P), Vector256<float>.One);
        var p = Vector256.FusedMultiplyAdd(u, Vector256.Create(A5), Vector256.Create(A4));
        p = Vector256.FusedMultiplyAdd(p, u, Vector256.Create(A3));
        p = Vector256.FusedMultiplyAdd(p, u, Vector256.Create(A2));
        p = Vector256.FusedMultiplyAdd(p, u, Vector256.Create(A1));
        var erf = Vector256<float>.One - p * u * Vector256.Exp(-(z * z));
        // x·(½ + ½·sign(x)·erf(|z|)): no intermediate overflows for |x| near float's maximum, unlike ½·(x + |x|·erf).
        var signedErf = erf ^ (x & Vector256.Create(-0f));
        return x * Vector256.FusedMultiplyAdd(Vector256.Create(0.5f), signedErf, Vector256.Create(0.5f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Gelu128(Vector128<float> x)
    {
        var ax = Vector128.Abs(x);
        var z = ax * Vector128.Create(0.70710678118654752f);
        var u = Vector128<float>.One / Vector128.FusedMultiplyAdd(z, Vector128.Create(P), Vector128<float>.One);
        var p = Vector128.FusedMultiplyAdd(u, Vector128.Create(A5), Vector128.Create(A4));
        p = Vector128.FusedMultiplyAdd(p, u, Vector128.Create(A3));
        p = Vector128.FusedMultiplyAdd(p, u, Vector128.Create(A2));
        p = Vector128.FusedMultiplyAdd(p, u, Vector128.Create(A1));
        var erf = Vector128<float>.One - p * u * Vector128.Exp(-(z * z));
        // x·(½ + ½·sign(x)·erf(|z|)): no intermediate overflows for |x| near float's maximum, unlike ½·(x + |x|·erf).
        var signedErf = erf ^ (x & Vector128.Create(-0f));
        return x * Vector128.FusedMultiplyAdd(Vector128.Create(0.5f), signedErf, Vector128.Create(0.5f));
    }

    /// <summary>The same formula for one value (tails and scalar kernels).</summary>
    public static float Gelu(float x)
    {
        float ax = MathF.Abs(x), z = ax * 0.70710678118654752f;
        float u = 1f / (1f + P * z);
        float p = ((((A5 * u + A4) * u + A3) * u + A2) * u + A1) * u;
        float erf = 1f - p * MathF.Exp(-z * z);
        return x * (0.5f + 0.5f * MathF.CopySign(erf, x));
    }

    /// <summary>The portable form: TensorPrimitives passes over stack chunks.</summary>
    public static void RowChunked(ReadOnlySpan<float> x, Span<float> y)
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
            // gelu = x·(½ + ½·sign(x)·erf(|z|)); y is written last, so it may alias x.
            TensorPrimitives.CopySign(ps, xs, us);
            TensorPrimitives.Multiply(us, 0.5f, us);
            TensorPrimitives.Add(us, 0.5f, us);
            TensorPrimitives.Multiply(xs, us, y.Slice(start, n));
        }
    }
}
