using FastInfer.Kernels.Blas;
using FastInfer.Kernels.Convolution;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Threading;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// <see cref="SessionOptions.GemmProvider"/> for Gemm/MatMul nodes: the managed kernels, or a native CBLAS
/// loaded once per process and shared, with the epilogue (bias, residual, activation) applied in managed code.
/// </summary>
internal static unsafe class GemmBackend
{
    private static readonly object s_lock = new();
    private static CblasProvider? s_cblas;
    private static string? s_error;

    /// <summary>The CBLAS provider when the session asks for one (null for managed); throws when none loads.</summary>
    public static CblasProvider? Resolve(SessionOptions options)
    {
        if (options.GemmProvider != GemmProvider.Cblas) return null;
        lock (s_lock)
        {
            if (s_cblas is null && s_error is null && !CblasProvider.TryLoad(out s_cblas, out string message)) s_error = message;
            return s_cblas ?? throw new NotSupportedException($"SessionOptions.GemmProvider is Cblas, but no CBLAS library could be loaded: {s_error}");
        }
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C, then the epilogue, through CBLAS or the managed kernels.</summary>
    public static void Multiply(CblasProvider? blas, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        if (blas is null)
        {
            Sgemm.Multiply(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue, pool);
            return;
        }
        blas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (epilogue.IsEmpty) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (epilogue.BiasKind == BiasKind.PerColumn) System.Numerics.Tensors.TensorPrimitives.Add(row, new ReadOnlySpan<float>(epilogue.Bias, n), row);
            else if (epilogue.BiasKind == BiasKind.PerRow) System.Numerics.Tensors.TensorPrimitives.Add(row, epilogue.Bias[i], row);
            if (epilogue.Residual != null) System.Numerics.Tensors.TensorPrimitives.Add(row, new ReadOnlySpan<float>(epilogue.Residual + (long)i * epilogue.ResidualStride, n), row);
            ActivationRow.Apply(c + (long)i * ldc, n, epilogue.Activation);
        }
    }
}
