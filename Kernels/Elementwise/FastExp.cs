using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FastInfer.Kernels.Elementwise;

/// <summary>
/// A single-precision e^x for the arguments the fused kernels need (softmax's x − max, GELU's −z², both ≤ 0),
/// in about 15 vector instructions: <see cref="Vector512.Exp(Vector512{float})"/> computes in double precision and
/// costs several times more, which showed in every transformer layer.
/// </summary>
public static class FastExp
{
    /// <summary>
    /// e^x for x ≤ 0, within ~2 ulp: x = n·ln 2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r⁷ (truncation
    /// below 2e-8 relative), times 2ⁿ built in the exponent bits. Below −87 (where 2ⁿ would leave the normal range)
    /// the result is 0, so −∞ — a masked attention score — gives exactly 0; NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> NonPositive512(Vector512<float> x)
    {
        var underflow = Vector512.LessThan(x, Vector512.Create(-87f));
        x = Vector512.Max(x, Vector512.Create(-87f));
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        var r = Vector512.FusedMultiplyAdd(-n, Vector512.Create(0.693145751953125f), x);   // ln 2, high part (exact in n·hi)
        r = Vector512.FusedMultiplyAdd(-n, Vector512.Create(1.42860682030941723e-6f), r); // ln 2, low part
        var e = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 5040), r, Vector512.Create(1f / 720));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512.Create(1f / 120));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512.Create(1f / 24));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512.Create(1f / 6));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512.Create(0.5f));
        e = Vector512.FusedMultiplyAdd(e, r, Vector512<float>.One);
        e = Vector512.FusedMultiplyAdd(e, r, Vector512<float>.One);
        var scale = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        return Vector512.ConditionalSelect(underflow, Vector512<float>.Zero, e * scale.AsSingle());
    }
}
