namespace FastInfer.Kernels.Gemm;

/// <summary>
/// The scalar definition of SGEMM (row-major): C = alpha·op(A)·op(B) + beta·C, then the epilogue.
/// Tests use it as the oracle for every optimized path. Accumulates in double so that it is a
/// better answer than any fp32 kernel, not merely another one.
/// </summary>
public static unsafe class SgemmReference
{
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue = default)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    float bv = transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                    sum += (double)av * bv;
                }
                float* cij = c + (long)i * ldc + j;
                float prior = beta == 0 ? 0 : beta * *cij; // beta = 0 ignores C, even NaN, as BLAS does
                *cij = epilogue.Apply((float)(alpha * sum) + prior, i, j);
            }
        }
    }
}
