namespace FastInfer.Kernels.Pooling;

/// <summary>The scalar definition of 2-D max/average pooling of one plane; the test oracle.</summary>
public static unsafe class PoolReference
{
    public static void Run(PoolKind kind, in PoolShape s, bool countIncludePad, float* x, float* y)
    {
        for (int p = 0; p < s.Planes; p++)
            Plane(kind, s, countIncludePad, x + (long)p * s.InHeight * s.InWidth, y + (long)p * s.OutHeight * s.OutWidth);
    }

    public static void Plane(PoolKind kind, in PoolShape s, bool countIncludePad, float* x, float* y)
    {
        for (int oy = 0; oy < s.OutHeight; oy++)
        for (int ox = 0; ox < s.OutWidth; ox++)
        {
            float max = float.NegativeInfinity;
            double sum = 0;
            int count = 0, padded = 0;
            for (int ky = 0; ky < s.KernelHeight; ky++)
            {
                int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                for (int kx = 0; kx < s.KernelWidth; kx++)
                {
                    int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                    bool inside = (uint)iy < (uint)s.InHeight && (uint)ix < (uint)s.InWidth;
                    // Cells in the declared padding count for count_include_pad; cells past it (ceil_mode) never do.
                    bool inPadding = iy >= -s.PadTop && iy < s.InHeight + s.PadBottom && ix >= -s.PadLeft && ix < s.InWidth + s.PadRight;
                    if (inside)
                    {
                        float v = x[(long)iy * s.InWidth + ix];
                        if (v > max || float.IsNaN(v)) max = v;
                        sum += v;
                        count++;
                    }
                    if (inPadding) padded++;
                }
            }
            float result;
            if (kind == PoolKind.Max) result = count > 0 ? max : float.NegativeInfinity;
            else
            {
                int divisor = countIncludePad ? padded : count;
                result = divisor > 0 ? (float)(sum / divisor) : 0f;
            }
            y[(long)oy * s.OutWidth + ox] = result;
        }
    }
}
