using System.Runtime.Intrinsics;
using FastInfer.Kernels.Elementwise;
using Xunit;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// The GELU kernel (every vector width, the row form and the scalar form) against 0.5·x·(1 + erf(x/√2)) evaluated
/// in double precision with an independent erf (its series near 0, its continued fraction beyond).
/// </summary>
public class GeluKernelTests
{
    /// <summary>
    /// erf in double: its power series 2/√π Σ (−1)ⁿ t²ⁿ⁺¹ / (n!(2n+1)) below |t| = 2.5 (terms stay below ~e^6.25, so
    /// ~1e-13 accuracy), else 1 − erfc(|t|) with erfc from its continued fraction e^(−t²)/√π · 1/(t + ½/(t + 1/(t + …))).
    /// </summary>
    private static double Erf(double t)
    {
        double a = Math.Abs(t);
        if (a < 2.5)
        {
            double term = t, sum = t;
            for (int n = 1; n < 200; n++)
            {
                term *= -t * t / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        double f = a;
        for (int k = 200; k >= 1; k--) f = a + k / 2.0 / f;
        double erfc = Math.Exp(-a * a) / (Math.Sqrt(Math.PI) * f);
        return Math.Sign(t) * (1 - erfc);
    }

    private static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    private static float[] Inputs()
    {
        var xs = new List<float> { 0f, -0f, 1e-30f, -1e-30f, 1f, -1f, 5.5f, -5.5f, 9f, -9f, 14f, -14f, 40f, -40f, 1e4f, -1e4f, 3e38f, -3e38f };
        for (float x = -10f; x <= 10f; x += 0.01953125f) xs.Add(x);
        var rnd = new Random(12);
        for (int i = 0; i < 2000; i++) xs.Add((float)((rnd.NextDouble() * 2 - 1) * 8));
        return xs.ToArray();
    }

    private static void Check(float x, float got, string form)
    {
        double want = Gelu(x);
        Assert.True(Math.Abs(got - want) <= 2e-6 + 2e-6 * Math.Abs(want), $"{form}: GELU({x:R}) = {got:R}, want {want:R}");
    }

    [Fact]
    public void VectorFormsMatchTheDefinition()
    {
        var xs = Inputs();
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            var v512 = GeluKernel.Gelu512(Vector512.Create(xs.AsSpan(i, 16)));
            var v256 = GeluKernel.Gelu256(Vector256.Create(xs.AsSpan(i, 8)));
            var v128 = GeluKernel.Gelu128(Vector128.Create(xs.AsSpan(i, 4)));
            for (int j = 0; j < 16; j++) Check(xs[i + j], v512[j], "Gelu512");
            for (int j = 0; j < 8; j++) Check(xs[i + j], v256[j], "Gelu256");
            for (int j = 0; j < 4; j++) Check(xs[i + j], v128[j], "Gelu128");
        }
    }

    [Fact]
    public void RowAndScalarFormsMatchTheDefinition()
    {
        var xs = Inputs();
        foreach (int length in new[] { 1, 7, 16, 33, xs.Length })
        {
            var y = new float[length];
            GeluKernel.Row(xs.AsSpan(0, length), y);
            for (int i = 0; i < length; i++) Check(xs[i], y[i], $"Row (length {length})");
            GeluKernel.RowChunked(xs.AsSpan(0, length), y);
            for (int i = 0; i < length; i++) Check(xs[i], y[i], $"RowChunked (length {length})");
        }
        foreach (float x in xs) Check(x, GeluKernel.Gelu(x), "scalar");
    }
}
