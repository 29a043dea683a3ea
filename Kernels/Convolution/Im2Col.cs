using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Unfolds one image's group of channels into the column matrix col[(c·KH+ky)·KW+kx, oy·OW+ox], writing
/// zeros where the kernel covers padding, so the convolution becomes one GEMM. Parallel over (channel,
/// filter row); for each filter column the valid output range is computed once, so the copy loop has no
/// bounds checks (a block copy for stride 1, a strided gather otherwise — which is also how a strided 1×1
/// convolution is gathered).
/// </summary>
public static unsafe class Im2Col
{
    public static void Run(in ConvShape s, float* x, float* col, WorkerPool pool)
    {
        var body = new Body { S = s, X = x, Col = col };
        pool.For(s.InChannelsPerGroup * s.KernelHeight, ref body);
    }

    private struct Body : IParallelBody
    {
        public ConvShape S;
        public float* X, Col;

        public void Invoke(int index)
        {
            int c = index / S.KernelHeight, ky = index - c * S.KernelHeight;
            int oh = S.OutHeight, ow = S.OutWidth, iw = S.InWidth, sw = S.StrideWidth;
            float* plane = X + (long)c * S.InHeight * iw;
            for (int kx = 0; kx < S.KernelWidth; kx++)
            {
                float* dst = Col + (((long)c * S.KernelHeight + ky) * S.KernelWidth + kx) * oh * ow;
                int off = kx * S.DilationWidth - S.PadLeft; // ix = ox·sw + off
                int lo = Math.Min(ow, off >= 0 ? 0 : (-off + sw - 1) / sw);
                int hi = Math.Max(lo, Math.Min(ow, iw - off <= 0 ? 0 : (iw - off - 1) / sw + 1));
                for (int oy = 0; oy < oh; oy++)
                {
                    int iy = oy * S.StrideHeight - S.PadTop + ky * S.DilationHeight;
                    float* row = dst + (long)oy * ow;
                    if ((uint)iy >= (uint)S.InHeight) { new Span<float>(row, ow).Clear(); continue; }
                    float* src = plane + (long)iy * iw + off;
                    for (int ox = 0; ox < lo; ox++) row[ox] = 0f;
                    if (sw == 1) Buffer.MemoryCopy(src + lo, row + lo, (hi - lo) * sizeof(float), (hi - lo) * sizeof(float));
                    else for (int ox = lo; ox < hi; ox++) row[ox] = src[ox * sw];
                    for (int ox = hi; ox < ow; ox++) row[ox] = 0f;
                }
            }
        }
    }
}
