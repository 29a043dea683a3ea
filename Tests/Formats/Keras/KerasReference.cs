namespace FastInfer.Tests.Formats.Keras;

/// <summary>
/// Keras semantics computed directly in channels_last (NHWC) from the raw Keras weights with plain loops, independent of
/// the reader's layout conversion. Spatial ops take [N, H, W, C]; 1-D ops are run as 2-D with H = 1.
/// </summary>
public static class KerasReference
{
    /// <summary>TF 'same'/'valid'/'causal' begin padding and output size along one axis.</summary>
    public static (long padBegin, long outSize) Axis(long input, long k, long s, long d, string padding)
    {
        long eff = (k - 1) * d + 1;
        switch (padding)
        {
            case "valid": return (0, (input - eff) / s + 1);
            case "causal": return (eff - 1, (input - 1) / s + 1);
            default:
                long o = (input + s - 1) / s;
                long total = Math.Max((o - 1) * s + eff - input, 0);
                return (total / 2, o);
        }
    }

    /// <summary>Conv2D: x [N,H,W,Cin], kernel HWIO [kh,kw,Cin/groups,Cout].</summary>
    public static Tensor Conv2D(Tensor x, Tensor kernel, float[]? bias, int sh, int sw, int dh, int dw, string padding, int groups = 1)
    {
        long N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        long kh = kernel.Shape[0], kw = kernel.Shape[1], cig = kernel.Shape[2], M = kernel.Shape[3];
        var (ph, oh) = Axis(H, kh, sh, dh, padding);
        var (pw, ow) = Axis(W, kw, sw, dw, padding);
        long mg = M / groups;
        var y = new Tensor(N, oh, ow, M);
        for (long n = 0; n < N; n++)
            for (long i = 0; i < oh; i++)
                for (long j = 0; j < ow; j++)
                    for (long m = 0; m < M; m++)
                    {
                        long g = m / mg;
                        double acc = bias?[m] ?? 0;
                        for (long a = 0; a < kh; a++)
                            for (long b = 0; b < kw; b++)
                            {
                                long r = i * sh + a * dh - ph, c = j * sw + b * dw - pw;
                                if (r < 0 || r >= H || c < 0 || c >= W) continue;
                                for (long ci = 0; ci < cig; ci++)
                                    acc += (double)x.Data[((n * H + r) * W + c) * C + g * cig + ci] * kernel.Data[((a * kw + b) * cig + ci) * M + m];
                            }
                        y.Data[((n * oh + i) * ow + j) * M + m] = (float)acc;
                    }
        return y;
    }

    /// <summary>DepthwiseConv2D: kernel [kh,kw,C,dm]; output channel c·dm + q.</summary>
    public static Tensor Depthwise(Tensor x, Tensor kernel, float[]? bias, int sh, int sw, int dh, int dw, string padding)
    {
        long N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        long kh = kernel.Shape[0], kw = kernel.Shape[1], dm = kernel.Shape[3];
        var (ph, oh) = Axis(H, kh, sh, dh, padding);
        var (pw, ow) = Axis(W, kw, sw, dw, padding);
        var y = new Tensor(N, oh, ow, C * dm);
        for (long n = 0; n < N; n++)
            for (long i = 0; i < oh; i++)
                for (long j = 0; j < ow; j++)
                    for (long c = 0; c < C; c++)
                        for (long q = 0; q < dm; q++)
                        {
                            double acc = bias?[c * dm + q] ?? 0;
                            for (long a = 0; a < kh; a++)
                                for (long b = 0; b < kw; b++)
                                {
                                    long r = i * sh + a * dh - ph, cc = j * sw + b * dw - pw;
                                    if (r < 0 || r >= H || cc < 0 || cc >= W) continue;
                                    acc += (double)x.Data[((n * H + r) * W + cc) * C + c] * kernel.Data[((a * kw + b) * C + c) * dm + q];
                                }
                            y.Data[((n * oh + i) * ow + j) * (C * dm) + c * dm + q] = (float)acc;
                        }
        return y;
    }

    public static Tensor Pool2D(Tensor x, int ph_, int pw_, int sh, int sw, string padding, bool max)
    {
        long N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        var (ph, oh) = Axis(H, ph_, sh, 1, padding);
        var (pw, ow) = Axis(W, pw_, sw, 1, padding);
        var y = new Tensor(N, oh, ow, C);
        for (long n = 0; n < N; n++)
            for (long i = 0; i < oh; i++)
                for (long j = 0; j < ow; j++)
                    for (long c = 0; c < C; c++)
                    {
                        double acc = max ? double.NegativeInfinity : 0; int count = 0;
                        for (long a = 0; a < ph_; a++)
                            for (long b = 0; b < pw_; b++)
                            {
                                long r = i * sh + a - ph, cc = j * sw + b - pw;
                                if (r < 0 || r >= H || cc < 0 || cc >= W) continue;
                                float v = x.Data[((n * H + r) * W + cc) * C + c];
                                acc = max ? Math.Max(acc, v) : acc + v; count++;
                            }
                        y.Data[((n * oh + i) * ow + j) * C + c] = (float)(max ? acc : acc / count);
                    }
        return y;
    }

    /// <summary>Dense over the last axis: kernel [in, out].</summary>
    public static Tensor Dense(Tensor x, Tensor kernel, float[]? bias)
    {
        long k = kernel.Shape[0], u = kernel.Shape[1], rows = x.Data.Length / k;
        var y = new float[rows * u];
        for (long r = 0; r < rows; r++)
            for (long j = 0; j < u; j++)
            {
                double acc = bias?[j] ?? 0;
                for (long p = 0; p < k; p++) acc += (double)x.Data[r * k + p] * kernel.Data[p * u + j];
                y[r * u + j] = (float)acc;
            }
        return new Tensor([.. x.Shape[..^1], u], y);
    }

    /// <summary>Keras Flatten of an NHWC tensor is the row-major data as is.</summary>
    public static Tensor Flatten(Tensor x) => new([x.Shape[0], x.Data.Length / x.Shape[0]], x.Data);

    public static Tensor Reshape(Tensor x, params long[] target) => new([x.Shape[0], .. target], x.Data);

    /// <summary>Per-last-axis function f(value, channel).</summary>
    public static Tensor PerChannel(Tensor x, Func<float, long, float> f)
    {
        long c = x.Shape[^1];
        var y = new float[x.Data.Length];
        for (long i = 0; i < y.Length; i++) y[i] = f(x.Data[i], i % c);
        return new Tensor(x.Shape, y);
    }

    public static Tensor BatchNorm(Tensor x, float[] gamma, float[] beta, float[] mean, float[] var, float eps) =>
        PerChannel(x, (v, c) => gamma[c] * (v - mean[c]) / MathF.Sqrt(var[c] + eps) + beta[c]);

    public static Tensor LayerNorm(Tensor x, float[] gamma, float[] beta, float eps)
    {
        long c = x.Shape[^1];
        var y = new float[x.Data.Length];
        for (long r = 0; r < x.Data.Length / c; r++)
        {
            double m = 0, v = 0;
            for (long i = 0; i < c; i++) m += x.Data[r * c + i];
            m /= c;
            for (long i = 0; i < c; i++) v += Math.Pow(x.Data[r * c + i] - m, 2);
            v /= c;
            for (long i = 0; i < c; i++) y[r * c + i] = (float)((x.Data[r * c + i] - m) / Math.Sqrt(v + eps) * gamma[i] + beta[i]);
        }
        return new Tensor(x.Shape, y);
    }

    public static Tensor Map(Tensor x, Func<float, float> f) => ReferenceInterpreter.Map(x, f);
    public static Tensor Zip(Tensor a, Tensor b, Func<float, float, float> f) => ReferenceInterpreter.Broadcast(a, b, f);

    /// <summary>PReLU with alpha shaped like x without batch (shared axes collapsed to 1).</summary>
    public static Tensor PRelu(Tensor x, Tensor alpha) => Zip(x, new Tensor([1, .. alpha.Shape], alpha.Data), (v, a) => v >= 0 ? v : a * v);

    public static Tensor Concat(Tensor a, Tensor b)
    {
        long ca = a.Shape[^1], cb = b.Shape[^1], rows = a.Data.Length / ca;
        var y = new float[rows * (ca + cb)];
        for (long r = 0; r < rows; r++)
        {
            Array.Copy(a.Data, r * ca, y, r * (ca + cb), ca);
            Array.Copy(b.Data, r * cb, y, r * (ca + cb) + ca, cb);
        }
        return new Tensor([.. a.Shape[..^1], ca + cb], y);
    }

    public static Tensor ZeroPad2D(Tensor x, int top, int bottom, int left, int right)
    {
        long N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        var y = new Tensor(N, H + top + bottom, W + left + right, C);
        for (long n = 0; n < N; n++) for (long i = 0; i < H; i++) for (long j = 0; j < W; j++) for (long c = 0; c < C; c++)
            y.Data[((n * y.Shape[1] + i + top) * y.Shape[2] + j + left) * C + c] = x.Data[((n * H + i) * W + j) * C + c];
        return y;
    }

    public static Tensor UpSample2D(Tensor x, int sh, int sw)
    {
        long N = x.Shape[0], H = x.Shape[1], W = x.Shape[2], C = x.Shape[3];
        var y = new Tensor(N, H * sh, W * sw, C);
        for (long n = 0; n < N; n++) for (long i = 0; i < H * sh; i++) for (long j = 0; j < W * sw; j++) for (long c = 0; c < C; c++)
            y.Data[((n * H * sh + i) * W * sw + j) * C + c] = x.Data[((n * H + i / sh) * W + j / sw) * C + c];
        return y;
    }

    /// <summary>Permute with Keras dims (1-based, batch excluded).</summary>
    public static Tensor Permute(Tensor x, params int[] dims) => ReferenceInterpreter.Transpose(x, [0, .. dims.Select(d => (long)d)]);

    public static Tensor GlobalPool(Tensor x, bool max)
    {
        long N = x.Shape[0], C = x.Shape[^1], S = x.Data.Length / N / C;
        var y = new Tensor(N, C);
        for (long n = 0; n < N; n++)
            for (long c = 0; c < C; c++)
            {
                double acc = max ? double.NegativeInfinity : 0;
                for (long s = 0; s < S; s++) { float v = x.Data[(n * S + s) * C + c]; acc = max ? Math.Max(acc, v) : acc + v; }
                y.Data[n * C + c] = (float)(max ? acc : acc / S);
            }
        return y;
    }

    public static Tensor Softmax(Tensor x) => ReferenceInterpreter.Softmax(x, -1);

    // Keras activations, written from their Keras definitions.
    public static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));
    public static float Gelu(float v) => (float)(0.5 * v * (1 + ReferenceInterpreter.Erf(v / Math.Sqrt(2))));
    public static float Elu(float v, float a = 1f) => v > 0 ? v : a * (MathF.Exp(v) - 1);
    public static float Selu(float v) => 1.0507009873554805f * (v > 0 ? v : 1.6732632423543772f * (MathF.Exp(v) - 1));
    public static float Softplus(float v) => (float)Math.Log(1 + Math.Exp(v));
    public static float Softsign(float v) => v / (1 + MathF.Abs(v));
    public static float HardSigmoidK2(float v) => Math.Clamp(0.2f * v + 0.5f, 0f, 1f);
    public static float HardSigmoidK3(float v) => Math.Clamp(v + 3f, 0f, 6f) / 6f;
    public static float Relu6(float v) => Math.Clamp(v, 0f, 6f);
    public static float Swish(float v) => v * Sigmoid(v);
    public static float Mish(float v) => v * MathF.Tanh(Softplus(v));
}
