using ILGPU.Algorithms;

namespace FastInfer.Gpu.Kernels;

/// <summary>Activation codes shared by every kernel epilogue (the same set as the CPU's fused activations).</summary>
internal static class ActivationCode
{
    public const int None = 0, Relu = 1, Clip = 2, LeakyRelu = 3, Sigmoid = 4, Tanh = 5;
}

/// <summary>Scalar math usable inside kernels: XMath only (System.Numerics types fail in ILGPU kernels).</summary>
internal static class DeviceMath
{
    public static float Activate(float x, int kind, float alpha, float beta)
    {
        if (kind == ActivationCode.Relu) return x > 0f ? x : 0f;
        if (kind == ActivationCode.Clip) return XMath.Min(XMath.Max(x, alpha), beta);
        if (kind == ActivationCode.LeakyRelu) return x < 0f ? alpha * x : x;
        if (kind == ActivationCode.Sigmoid) return 1f / (1f + XMath.Exp(-x));
        if (kind == ActivationCode.Tanh) return XMath.Tanh(x);
        return x;
    }

    /// <summary>erf by Abramowitz and Stegun 7.1.26 (|error| ≤ 1.5e-7), as XMath has no erf.</summary>
    public static float Erf(float x)
    {
        float sign = x < 0f ? -1f : 1f;
        float a = XMath.Abs(x);
        float t = 1f / (1f + 0.3275911f * a);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        return sign * (1f - poly * XMath.Exp(-a * a));
    }
}
