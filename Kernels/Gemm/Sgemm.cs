using System.Numerics.Tensors;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// Single-precision GEMM, row-major: C[M×N] = alpha·op(A)[M×K]·op(B)[K×N] + beta·C, then an epilogue
/// (bias, residual, activation). The one entry point every matrix product in the runtime goes through,
/// so that faster kernels replace this without touching callers.
/// </summary>
public static unsafe class Sgemm
{
    /// <summary>General product with unpacked operands.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        using var packed = PackB(transB, k, n, b, ldb);
        if (!transA) { MultiplyPacked(m, n, k, alpha, a, lda, packed, beta, c, ldc, epilogue, pool); return; }
        // op(A) = Aᵀ: gather A into row-major first. Rare (Gemm transA=1); not a hot path.
        using var at = new AlignedBuffer((long)m * k * sizeof(float), zero: false);
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                at.Floats[(long)i * k + p] = a[(long)p * lda + i];
        MultiplyPacked(m, n, k, alpha, at.Floats, k, packed, beta, c, ldc, epilogue, pool);
    }

    /// <summary>Packs a right operand op(B)[K×N] once, for <see cref="MultiplyPacked"/>.</summary>
    public static PackedMatrix PackB(bool transB, int k, int n, float* b, int ldb)
    {
        var buffer = new AlignedBuffer((long)k * n * sizeof(float), zero: false);
        float* dst = buffer.Floats;
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
                dst[(long)p * n + j] = transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
        return new PackedMatrix(buffer, k, n, isLeftOperand: false);
    }

    /// <summary>Packs a left operand op(A)[M×K] once, for <see cref="MultiplyPackedA"/>.</summary>
    public static PackedMatrix PackA(bool transA, int m, int k, float* a, int lda)
    {
        var buffer = new AlignedBuffer((long)m * k * sizeof(float), zero: false);
        float* dst = buffer.Floats;
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                dst[(long)i * k + p] = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
        return new PackedMatrix(buffer, m, k, isLeftOperand: true);
    }

    /// <summary>C = alpha·A·B + beta·C with B packed by <see cref="PackB"/>; A is row-major, not transposed.</summary>
    public static void MultiplyPacked(int m, int n, int k, float alpha, float* a, int lda, PackedMatrix b,
        float beta, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        if (b.IsLeftOperand || b.Rows != k || b.Cols != n) throw new ArgumentException("Packed B does not match K×N.", nameof(b));
        var body = new RowBody { A = a, Lda = lda, B = b.Buffer.Floats, Ldb = n, C = c, Ldc = ldc, N = n, K = k, Alpha = alpha, Beta = beta, Epilogue = epilogue };
        pool.For(m, ref body);
    }

    /// <summary>C[M×N] = A·B with A packed by <see cref="PackA"/>; B is row-major K×N with row stride ldb.</summary>
    public static void MultiplyPackedA(PackedMatrix a, int n, float* b, int ldb, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        if (!a.IsLeftOperand) throw new ArgumentException("Expected a packed left operand.", nameof(a));
        var body = new RowBody { A = a.Buffer.Floats, Lda = a.Cols, B = b, Ldb = ldb, C = c, Ldc = ldc, N = n, K = a.Cols, Alpha = 1, Beta = 0, Epilogue = epilogue };
        pool.For(a.Rows, ref body);
    }

    /// <summary>One row of C per index: c_row = Σ_p a[i,p]·b_row(p), vectorized along N.</summary>
    private struct RowBody : IParallelBody
    {
        public float* A, B, C;
        public int Lda, Ldb, Ldc, N, K;
        public float Alpha, Beta;
        public GemmEpilogue Epilogue;

        public void Invoke(int i)
        {
            var row = new Span<float>(C + (long)i * Ldc, N);
            if (Beta == 0) row.Clear();
            else if (Beta != 1) TensorPrimitives.Multiply(row, Beta, row);
            float* ai = A + (long)i * Lda;
            for (int p = 0; p < K; p++)
            {
                float s = Alpha * ai[p];
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(B + (long)p * Ldb, N), s, row, row);
            }
            if (!Epilogue.IsEmpty)
                for (int j = 0; j < N; j++) row[j] = Epilogue.Apply(row[j], i, j);
        }
    }
}
