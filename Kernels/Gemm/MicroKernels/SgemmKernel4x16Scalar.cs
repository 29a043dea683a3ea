namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// SGEMM micro-kernel in plain scalar code over the same packed panels as the vector tiers: the tier of
/// last resort and the twin the vector kernels are compared with. Up to 4×16 per call.
/// </summary>
internal static unsafe class SgemmKernel4x16Scalar
{
    public const int Mr = 4;
    public const int Nr = 16;

    public static void Run(int rows, int cols, float* a, float* b, nint bPanelStride, int kc, float* c, nint ldc, int row0, int col0, TileContext* t)
    {
        float* acc = stackalloc float[Mr * Nr];
        new Span<float>(acc, Mr * Nr).Clear();
        for (int p = 0; p < kc; p++)
        {
            float* bp = b + p * 16;
            for (int i = 0; i < rows; i++)
            {
                float av = a[p * rows + i];
                float* ai = acc + i * Nr;
                for (int j = 0; j < cols; j++) ai[j] = MathF.FusedMultiplyAdd(av, bp[j], ai[j]);
            }
        }
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                t->Store(c + i * ldc + j, acc[i * Nr + j], row0 + i, col0 + j);
    }
}
