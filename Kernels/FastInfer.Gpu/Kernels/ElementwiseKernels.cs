using ILGPU;
using ILGPU.Algorithms;

namespace FastInfer.Gpu.Kernels;

/// <summary>
/// A rank-6 index map: output dims D0..D5 (padded with leading 1s) and, per operand, the element stride of
/// each dim (0 where the operand is broadcast). Serves broadcasting binary ops and transposes.
/// </summary>
internal struct Strides6
{
    public int D0, D1, D2, D3, D4, D5;
    public long A0, A1, A2, A3, A4, A5;
    public long B0, B1, B2, B3, B4, B5;
    public int Op;
    public float Alpha, Beta;

    /// <summary>Operand offsets of output element <paramref name="i"/>.</summary>
    public void Locate(long i, out long a, out long b)
    {
        long r = i;
        long i5 = r % D5; r /= D5;
        long i4 = r % D4; r /= D4;
        long i3 = r % D3; r /= D3;
        long i2 = r % D2; r /= D2;
        long i1 = r % D1; long i0 = r / D1;
        a = i0 * A0 + i1 * A1 + i2 * A2 + i3 * A3 + i4 * A4 + i5 * A5;
        b = i0 * B0 + i1 * B1 + i2 * B2 + i3 * B3 + i4 * B4 + i5 * B5;
    }
}

/// <summary>Operation codes of the element-wise kernels.</summary>
internal static class ElementwiseOp
{
    // binary
    public const int Add = 0, Sub = 1, Mul = 2, Div = 3, Pow = 4, Max = 5, Min = 6;
    // unary
    public const int Relu = 10, Sigmoid = 11, Tanh = 12, LeakyRelu = 13, Clip = 14, Exp = 15, Log = 16, Sqrt = 17,
        Neg = 18, Abs = 19, Reciprocal = 20, Erf = 21, Copy = 22, Elu = 23, HardSigmoid = 24, Softplus = 25, Gelu = 26;
}

internal static class ElementwiseKernels
{
    /// <summary>y = a ∘ b with broadcasting through <see cref="Strides6"/>. One thread per output.</summary>
    public static void Binary(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Strides6 s)
    {
        long i = index;
        s.Locate(i, out long ia, out long ib);
        float x = a[ia], z = b[ib];
        float r;
        if (s.Op == ElementwiseOp.Add) r = x + z;
        else if (s.Op == ElementwiseOp.Sub) r = x - z;
        else if (s.Op == ElementwiseOp.Mul) r = x * z;
        else if (s.Op == ElementwiseOp.Div) r = x / z;
        else if (s.Op == ElementwiseOp.Pow) r = z == 2f ? x * x : XMath.Pow(x, z);
        else if (s.Op == ElementwiseOp.Max) r = XMath.Max(x, z);
        else r = XMath.Min(x, z);
        y[i] = r;
    }

    /// <summary>y = f(x), element by element (in place is fine).</summary>
    public static void Unary(Index1D index, ArrayView<float> x, ArrayView<float> y, int op, float alpha, float beta)
    {
        float v = x[index];
        float r;
        if (op == ElementwiseOp.Relu) r = v > 0f ? v : 0f;
        else if (op == ElementwiseOp.Sigmoid) r = 1f / (1f + XMath.Exp(-v));
        else if (op == ElementwiseOp.Tanh) r = XMath.Tanh(v);
        else if (op == ElementwiseOp.LeakyRelu) r = v < 0f ? alpha * v : v;
        else if (op == ElementwiseOp.Clip) r = XMath.Min(XMath.Max(v, alpha), beta);
        else if (op == ElementwiseOp.Exp) r = XMath.Exp(v);
        else if (op == ElementwiseOp.Log) r = XMath.Log(v);
        else if (op == ElementwiseOp.Sqrt) r = XMath.Sqrt(v);
        else if (op == ElementwiseOp.Neg) r = -v;
        else if (op == ElementwiseOp.Abs) r = XMath.Abs(v);
        else if (op == ElementwiseOp.Reciprocal) r = 1f / v;
        else if (op == ElementwiseOp.Erf) r = DeviceMath.Erf(v);
        else if (op == ElementwiseOp.Elu) r = v < 0f ? alpha * (XMath.Exp(v) - 1f) : v;
        else if (op == ElementwiseOp.HardSigmoid) r = XMath.Max(0f, XMath.Min(1f, alpha * v + beta));
        else if (op == ElementwiseOp.Softplus) r = v > 20f ? v : XMath.Log(1f + XMath.Exp(v));
        else if (op == ElementwiseOp.Gelu) r = 0.5f * v * (1f + DeviceMath.Erf(v * 0.70710678f));
        else r = v;
        y[index] = r;
    }

    /// <summary>y[out] = x[in] through the permuted strides in A (a transpose or any strided gather).</summary>
    public static void Gather(Index1D index, ArrayView<float> x, ArrayView<float> y, Strides6 s)
    {
        long i = index;
        s.Locate(i, out long ia, out _);
        y[i] = x[ia];
    }

    /// <summary>Copies one Concat input [outer, axisIn, inner] into the output [outer, axisOut, inner] at axisOffset.</summary>
    public static void ConcatSlice(Index1D index, ArrayView<float> x, ArrayView<float> y, int axisIn, int inner, int axisOut, int axisOffset)
    {
        long i = index;
        long block = (long)axisIn * inner;
        long outer = i / block, rest = i - outer * block;
        y[outer * axisOut * inner + (long)axisOffset * inner + rest] = x[i];
    }
}

/// <summary>Row-wise normalizations: softmax over an axis and layer normalization over trailing dims.</summary>
internal static class NormalizationKernels
{
    /// <summary>Softmax (or log-softmax) of x[o, :, i] over the middle axis; one thread per (o, i).</summary>
    public static void Softmax(Index1D index, ArrayView<float> x, ArrayView<float> y, int axis, int inner, int log)
    {
        long o = index / inner, i = index % inner;
        long start = o * axis * inner + i;
        float max = float.NegativeInfinity;
        for (int k = 0; k < axis; k++) max = XMath.Max(max, x[start + (long)k * inner]);
        float sum = 0f;
        for (int k = 0; k < axis; k++) sum += XMath.Exp(x[start + (long)k * inner] - max);
        if (log != 0)
        {
            float lse = XMath.Log(sum);
            for (int k = 0; k < axis; k++) y[start + (long)k * inner] = x[start + (long)k * inner] - max - lse;
        }
        else
        {
            float inv = 1f / sum;
            for (int k = 0; k < axis; k++) y[start + (long)k * inner] = XMath.Exp(x[start + (long)k * inner] - max) * inv;
        }
    }

    /// <summary>y = (x − mean) / sqrt(var + ε) · scale + bias over rows of <paramref name="cols"/>; one thread per row.</summary>
    public static void LayerNorm(Index1D index, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> bias, ArrayView<float> y,
        int cols, float epsilon, int hasBias)
    {
        long start = (long)index.X * cols;
        float mean = 0f;
        for (int k = 0; k < cols; k++) mean += x[start + k];
        mean /= cols;
        float var = 0f;
        for (int k = 0; k < cols; k++) { float d = x[start + k] - mean; var += d * d; }
        float inv = XMath.Rsqrt(var / cols + epsilon);
        for (int k = 0; k < cols; k++)
            y[start + k] = (x[start + k] - mean) * inv * scale[k] + (hasBias != 0 ? bias[k] : 0f);
    }
}
