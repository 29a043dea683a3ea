using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Elementwise;

/// <summary>
/// Softmax of one contiguous row, exp(x − max) / Σ. The AVX-512 form takes two passes after the max instead of
/// four (exponentials and their sum together, then one multiply by 1/Σ) with <see cref="FastExp"/>; attention runs
/// it on every row of every head. Other tiers use TensorPrimitives.
/// </summary>
public static unsafe class SoftmaxKernel
{
    /// <param name="wide">The AVX-512 form (the caller's ISA choice, made once on the planning thread).</param>
    public static void Row(float* x, float* y, int n, bool wide)
    {
        if (n <= 0) return;
        if (!wide || !Avx512F.IsSupported)
        {
            var xs = new ReadOnlySpan<float>(x, n);
            var ys = new Span<float>(y, n);
            float max = TensorPrimitives.Max(xs);
            TensorPrimitives.Subtract(xs, max, ys);
            TensorPrimitives.Exp(ys, ys);
            TensorPrimitives.Divide(ys, TensorPrimitives.Sum(ys), ys);
            return;
        }
        var vmax = Vector512.Create(RowMax(x, n));
        var sum = Vector512<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var e = FastExp.NonPositive512(Vector512.Load(x + i) - vmax);
            Vector512.Store(e, y + i);
            sum += e;
        }
        var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - i)).AsSingle();
        if (i < n)
        {
            // Lanes past the row load max itself (e⁰ = 1): masked out of the sum and never stored.
            var e = FastExp.NonPositive512(Avx512F.MaskLoad(x + i, tail, vmax) - vmax);
            Avx512F.MaskStore(y + i, tail, e);
            sum += e & tail;
        }
        var scale = Vector512.Create(1f / Vector512.Sum(sum));
        for (i = 0; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(y + i) * scale, y + i);
        if (i < n) Avx512F.MaskStore(y + i, tail, Avx512F.MaskLoad(y + i, tail, Vector512<float>.Zero) * scale);
    }

    /// <summary>
    /// The row's maximum in four independent chains (TensorPrimitives.Max keeps one, and orders NaN and −0 first,
    /// which a softmax does not need: a NaN score gives NaN through the exponentials anyway).
    /// </summary>
    private static float RowMax(float* x, int n)
    {
        var m0 = Vector512.Create(float.NegativeInfinity);
        Vector512<float> m1 = m0, m2 = m0, m3 = m0;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            m0 = Avx512F.Max(m0, Vector512.Load(x + i));
            m1 = Avx512F.Max(m1, Vector512.Load(x + i + 16));
            m2 = Avx512F.Max(m2, Vector512.Load(x + i + 32));
            m3 = Avx512F.Max(m3, Vector512.Load(x + i + 48));
        }
        for (; i + 16 <= n; i += 16) m0 = Avx512F.Max(m0, Vector512.Load(x + i));
        if (i < n)
        {
            var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - i)).AsSingle();
            m1 = Avx512F.Max(m1, Avx512F.MaskLoad(x + i, tail, Vector512.Create(float.NegativeInfinity)));
        }
        return HorizontalMax(Avx512F.Max(Avx512F.Max(m0, m1), Avx512F.Max(m2, m3)));
    }

    private static float HorizontalMax(Vector512<float> v)
    {
        var m = Vector256.Max(v.GetLower(), v.GetUpper());
        var q = Vector128.Max(m.GetLower(), m.GetUpper());
        q = Vector128.Max(q, Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1)));
        q = Vector128.Max(q, Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2)));
        return q.ToScalar();
    }
}
