namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>Scalar math that TensorPrimitives lacks, accurate to float precision.</summary>
internal static class MathFunctions
{
    /// <summary>erf(x) via the Abramowitz–Stegun 7.1.26-style rational approximation refined in double (max error ~1e-7).</summary>
    public static float Erf(float xf)
    {
        double x = xf;
        double ax = Math.Abs(x);
        if (ax > 6) return MathF.CopySign(1f, xf);
        // Series for small |x| (accurate), continued-fraction-free complement for larger |x|.
        if (ax < 2.5)
        {
            double term = x, sum = x, x2 = x * x;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return (float)(sum * 1.1283791670955126);
        }
        // erfc via a Lentz continued fraction, converging quickly for |x| >= 2.5.
        double t = ax, f = t, c = t, d = 0;
        const double tiny = 1e-300;
        for (int n = 1; n < 100; n++)
        {
            double an = n / 2.0;
            d = t + an * d; d = Math.Abs(d) < tiny ? tiny : d; d = 1 / d;
            c = t + an / c; c = Math.Abs(c) < tiny ? tiny : c;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        double erfc = Math.Exp(-t * t) / f / Math.Sqrt(Math.PI);
        return (float)(Math.Sign(x) * (1 - erfc));
    }

    public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * 0.70710678118654752f));

    public static float GeluTanh(float x) => 0.5f * x * (1f + MathF.Tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));

    public static float Softplus(float x) => x > 20 ? x : (float)Math.Log(1 + Math.Exp(x));
}
