using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Unfolds one image's group of channels into the column matrix col[(c·KH+ky)·KW+kx, oy·OW+ox], writing
/// zeros where the kernel covers padding, so the convolution becomes one GEMM.
/// </summary>
public static unsafe class Im2Col
{
    public static void Run(in ConvShape s, float* x, float* col, WorkerPool pool)
    {
        var body = new Body { S = s, X = x, Col = col };
        pool.For(s.InChannelsPerGroup, ref body);
    }

    private struct Body : IParallelBody
    {
        public ConvShape S;
        public float* X, Col;

        public void Invoke(int c)
        {
            int oh = S.OutHeight, ow = S.OutWidth;
            float* plane = X + (long)c * S.InHeight * S.InWidth;
            for (int ky = 0; ky < S.KernelHeight; ky++)
            for (int kx = 0; kx < S.KernelWidth; kx++)
            {
                float* dst = Col + (((long)c * S.KernelHeight + ky) * S.KernelWidth + kx) * oh * ow;
                for (int oy = 0; oy < oh; oy++)
                {
                    int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                    float* row = dst + (long)oy * ow;
                    if ((uint)iy >= (uint)S.InHeight) { new Span<float>(row, ow).Clear(); continue; }
                    float* src = plane + (long)iy * S.InWidth;
                    int x0 = kx * S.DilationWidth - S.PadLeft;
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int ix = ox * S.StrideWidth + x0;
                        row[ox] = (uint)ix < (uint)S.InWidth ? src[ix] : 0f;
                    }
                }
            }
        }
    }
}
