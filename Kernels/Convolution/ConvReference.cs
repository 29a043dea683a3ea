using FastInfer.Kernels.Gemm;

namespace FastInfer.Kernels.Convolution;

/// <summary>The scalar definition of grouped, strided, dilated, padded 2-D convolution (NCHW); the test oracle.</summary>
public static unsafe class ConvReference
{
    /// <param name="residual">Optional tensor shaped like Y added before the activation.</param>
    public static void Run(in ConvShape s, float* x, float* w, float* bias, float* residual, Activation activation, float* y)
    {
        int oh = s.OutHeight, ow = s.OutWidth, cg = s.InChannelsPerGroup, mg = s.OutChannelsPerGroup;
        for (int n = 0; n < s.Batch; n++)
        for (int m = 0; m < s.OutChannels; m++)
        {
            int g = m / mg;
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                double sum = bias != null ? bias[m] : 0;
                for (int c = 0; c < cg; c++)
                for (int ky = 0; ky < s.KernelHeight; ky++)
                {
                    int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                    if ((uint)iy >= (uint)s.InHeight) continue;
                    for (int kx = 0; kx < s.KernelWidth; kx++)
                    {
                        int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                        if ((uint)ix >= (uint)s.InWidth) continue;
                        float xv = x[(((long)n * s.InChannels + g * cg + c) * s.InHeight + iy) * s.InWidth + ix];
                        float wv = w[(((long)m * cg + c) * s.KernelHeight + ky) * s.KernelWidth + kx];
                        sum += (double)xv * wv;
                    }
                }
                long yi = (((long)n * s.OutChannels + m) * oh + oy) * ow + ox;
                float v = (float)sum;
                if (residual != null) v += residual[yi];
                y[yi] = activation.Apply(v);
            }
        }
    }
}
