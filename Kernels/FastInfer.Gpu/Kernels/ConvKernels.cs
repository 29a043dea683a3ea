using ILGPU;

namespace FastInfer.Gpu.Kernels;

/// <summary>The geometry of a 2-D convolution or pooling window over NCHW (1-D as H = KH = 1).</summary>
internal struct WindowParams
{
    public int Batch, Channels, Height, Width;
    public int OutChannels, OutHeight, OutWidth;
    public int KernelH, KernelW, StrideH, StrideW, DilationH, DilationW, PadTop, PadLeft;
    public int Group;
    /// <summary>Pooling: 0 max, 1 average. Average divides by the window clipped to the input (0) or to the padded input (1).</summary>
    public int PoolKind, CountIncludePad, PadBottom, PadRight;
    public int HasBias, HasResidual, Activation;
    public float Alpha, Beta;
}

/// <summary>Convolution helpers: im2col feeding the tiled GEMM, and a direct depthwise kernel.</summary>
internal static class ConvKernels
{
    /// <summary>
    /// col[(n·G + g), k, p] for k = (c·KH + kh)·KW + kw over the group's channels and p = oh·OW + ow; zero where
    /// the window reads padding. One thread per element of the column buffer.
    /// </summary>
    public static void Im2Col(Index1D index, ArrayView<float> x, ArrayView<float> col, WindowParams w)
    {
        int p = w.OutHeight * w.OutWidth;
        int cg = w.Channels / w.Group;
        int k = cg * w.KernelH * w.KernelW;
        long i = index;
        int pos = (int)(i % p); long rest = i / p;
        int kk = (int)(rest % k); long image = rest / k;           // image = n·G + g
        int g = (int)(image % w.Group), n = (int)(image / w.Group);
        int kw = kk % w.KernelW, t = kk / w.KernelW;
        int kh = t % w.KernelH, c = t / w.KernelH;
        int ow = pos % w.OutWidth, oh = pos / w.OutWidth;
        int ih = oh * w.StrideH - w.PadTop + kh * w.DilationH;
        int iw = ow * w.StrideW - w.PadLeft + kw * w.DilationW;
        float v = 0f;
        if (ih >= 0 && ih < w.Height && iw >= 0 && iw < w.Width)
            v = x[(((long)n * w.Channels + g * cg + c) * w.Height + ih) * w.Width + iw];
        col[i] = v;
    }

    /// <summary>Depthwise convolution (one filter per channel), with bias, residual and activation. One thread per output.</summary>
    public static void Depthwise(Index1D index, ArrayView<float> x, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> residual, ArrayView<float> y, WindowParams w)
    {
        long i = index;
        int ow = (int)(i % w.OutWidth); long r = i / w.OutWidth;
        int oh = (int)(r % w.OutHeight); r /= w.OutHeight;
        int c = (int)(r % w.Channels); int n = (int)(r / w.Channels);
        long plane = ((long)n * w.Channels + c) * w.Height * w.Width;
        float sum = w.HasBias != 0 ? bias[c] : 0f;
        for (int kh = 0; kh < w.KernelH; kh++)
        {
            int ih = oh * w.StrideH - w.PadTop + kh * w.DilationH;
            if (ih < 0 || ih >= w.Height) continue;
            for (int kw = 0; kw < w.KernelW; kw++)
            {
                int iw = ow * w.StrideW - w.PadLeft + kw * w.DilationW;
                if (iw < 0 || iw >= w.Width) continue;
                sum += x[plane + (long)ih * w.Width + iw] * weights[(c * w.KernelH + kh) * w.KernelW + kw];
            }
        }
        if (w.HasResidual != 0) sum += residual[i];
        y[i] = DeviceMath.Activate(sum, w.Activation, w.Alpha, w.Beta);
    }

    /// <summary>Max or average pooling (global pooling is the window covering the whole plane). One thread per output.</summary>
    public static void Pool(Index1D index, ArrayView<float> x, ArrayView<float> y, WindowParams w)
    {
        long i = index;
        int ow = (int)(i % w.OutWidth); long r = i / w.OutWidth;
        int oh = (int)(r % w.OutHeight); long plane = (r / w.OutHeight) * w.Height * w.Width;
        float best = float.NegativeInfinity, sum = 0f;
        int count = 0;
        for (int kh = 0; kh < w.KernelH; kh++)
        {
            int ih = oh * w.StrideH - w.PadTop + kh * w.DilationH;
            for (int kw = 0; kw < w.KernelW; kw++)
            {
                int iw = ow * w.StrideW - w.PadLeft + kw * w.DilationW;
                bool inside = ih >= 0 && ih < w.Height && iw >= 0 && iw < w.Width;
                if (inside)
                {
                    float v = x[plane + (long)ih * w.Width + iw];
                    if (v > best) best = v;
                    sum += v;
                    count++;
                }
                else if (w.CountIncludePad != 0 && ih >= -w.PadTop && ih < w.Height + w.PadBottom && iw >= -w.PadLeft && iw < w.Width + w.PadRight)
                    count++;
            }
        }
        y[i] = w.PoolKind == 0 ? best : (count > 0 ? sum / count : 0f);
    }
}
