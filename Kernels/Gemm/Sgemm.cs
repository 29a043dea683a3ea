using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// Single-precision GEMM, row-major: C[M×N] = alpha·op(A)[M×K]·op(B)[K×N] + beta·C, then an epilogue
/// (bias, residual, activation). The one entry point every matrix product in the runtime goes through.
/// Blocked and packed (see <see cref="GemmDriver"/>), with a register-blocked micro-kernel per ISA tier
/// (<see cref="KernelIsa"/>). Non-constant operands are packed into per-thread scratch, so no call
/// allocates after a thread's first; constants are packed once with <see cref="PackA"/>/<see cref="PackB"/>.
/// </summary>
public static unsafe class Sgemm
{
    /// <summary>General product with unpacked operands (both packed on the fly, block by block).</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        var kernel = SgemmKernelTable.For(KernelIsa.Current);
        if (TransposedProduct.Pays(kernel, m, n, k, beta))
        {
            // A narrow or ragged N on a tall A: the tail goes to the panel side, where it costs less (see TransposedProduct).
            TransposedProduct.Multiply(kernel, transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, epilogue, pool);
            return;
        }
        var d = new GemmDriver
        {
            Kernel = kernel, M = m, N = n, K = k, Alpha = alpha, Beta = beta, Epilogue = epilogue,
            A = a, Lda = lda, TransA = transA, B = b, Ldb = ldb, TransB = transB, C = c, Ldc = ldc,
        };
        d.Run(pool);
    }

    /// <summary>
    /// Whether <see cref="Multiply"/> computes this product (at the current tier) as Cᵀ = op(B)ᵀ·op(A)ᵀ and transposes it
    /// into C: a tall A with a narrow or ragged N, where N's tail is cheaper on the panel side. Depends on the shape alone.
    /// </summary>
    public static bool TransposesProduct(int m, int n, int k, float beta) =>
        TransposedProduct.Pays(SgemmKernelTable.For(KernelIsa.Current), m, n, k, beta);

    /// <summary>Packs a right operand op(B)[K×N] once, for <see cref="MultiplyPacked"/>.</summary>
    public static PackedMatrix PackB(bool transB, int k, int n, float* b, int ldb)
    {
        long floats = (long)(n + 15) / 16 * 16 * k;
        var buffer = new AlignedBuffer(floats * sizeof(float), zero: false);
        GemmPacking.PackB(transB, b, ldb, 0, k, 0, n, buffer.Floats);
        return new PackedMatrix(buffer, k, n, isLeftOperand: false, KernelIsa.Current, 16);
    }

    /// <summary>
    /// A right operand [K×N] already in the packed layout at <paramref name="dst"/> (<c>⌈N/16⌉·16·K</c> floats, 64-byte
    /// aligned, owned by the caller and outliving the result), written there by a transform that packs as it goes.
    /// </summary>
    internal static PackedMatrix PackedB(int k, int n, float* dst) =>
        new(AlignedBuffer.View(dst, (long)(n + 15) / 16 * 16 * k * sizeof(float)), k, n, isLeftOperand: false, KernelIsa.Current, 16);

    /// <summary>
    /// A constant right operand op(B)[K×N] packed: found in <paramref name="store"/> under <paramref name="key"/>
    /// (used in place), else packed here and offered to the store.
    /// </summary>
    public static PackedMatrix PackB(bool transB, int k, int n, float* b, int ldb, IPackedOperandStore? store, string key)
    {
        var packed = FindB(k, n, store, key);
        if (packed != null) return packed;
        packed = PackB(transB, k, n, b, ldb);
        store?.Offer(key, packed.Buffer.Floats, packed.ByteLength);
        return packed;
    }

    /// <summary>A right operand op(B)[K×N] as stored under <paramref name="key"/>; null when absent.</summary>
    public static PackedMatrix? FindB(int k, int n, IPackedOperandStore? store, string key)
    {
        if (store == null) return null;
        long bytes = (long)(n + 15) / 16 * 16 * k * sizeof(float);
        float* found = store.Find(key, bytes);
        return found != null ? new PackedMatrix(AlignedBuffer.View(found, bytes), k, n, isLeftOperand: false, KernelIsa.Current, 16) : null;
    }

    /// <summary>
    /// A constant left operand op(A)[M×K] packed for the current tier: found in <paramref name="store"/> under
    /// <paramref name="key"/> (used in place), else packed here and offered to the store.
    /// </summary>
    public static PackedMatrix PackA(bool transA, int m, int k, float* a, int lda, IPackedOperandStore? store, string key)
    {
        var packed = FindA(m, k, store, key);
        if (packed != null) return packed;
        packed = PackA(transA, m, k, a, lda);
        store?.Offer(key, packed.Buffer.Floats, packed.ByteLength);
        return packed;
    }

    /// <summary>A left operand op(A)[M×K] packed for the current tier, as stored under <paramref name="key"/>; null when absent.</summary>
    public static PackedMatrix? FindA(int m, int k, IPackedOperandStore? store, string key)
    {
        if (store == null) return null;
        var kernel = SgemmKernelTable.For(KernelIsa.Current);
        long bytes = (long)m * k * sizeof(float);
        float* found = store.Find(key, bytes);
        return found != null ? new PackedMatrix(AlignedBuffer.View(found, bytes), m, k, isLeftOperand: true, kernel.Isa, kernel.Mr) : null;
    }

    /// <summary>Packs a left operand op(A)[M×K] once, for <see cref="MultiplyPackedA"/>, for the current ISA tier's tile.</summary>
    public static PackedMatrix PackA(bool transA, int m, int k, float* a, int lda)
    {
        var kernel = SgemmKernelTable.For(KernelIsa.Current);
        var buffer = new AlignedBuffer((long)m * k * sizeof(float), zero: false);
        for (int row0 = 0; row0 < m; row0 += kernel.Mr)
            GemmPacking.PackA(transA, a, lda, row0, Math.Min(kernel.Mr, m - row0), 0, k, buffer.Floats + (long)row0 * k);
        return new PackedMatrix(buffer, m, k, isLeftOperand: true, kernel.Isa, kernel.Mr);
    }

    /// <summary>C = alpha·A·B + beta·C with B packed by <see cref="PackB"/>; A is row-major, not transposed.</summary>
    public static void MultiplyPacked(int m, int n, int k, float alpha, float* a, int lda, PackedMatrix b,
        float beta, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        if (b.IsLeftOperand || b.Rows != k || b.Cols != n) throw new ArgumentException("Packed B does not match K×N.", nameof(b));
        var d = new GemmDriver
        {
            Kernel = SgemmKernelTable.For(KernelIsa.Current), M = m, N = n, K = k, Alpha = alpha, Beta = beta, Epilogue = epilogue,
            A = a, Lda = lda, BPacked = b.Buffer.Floats, C = c, Ldc = ldc,
        };
        d.Run(pool);
    }

    /// <summary>C = alpha·op(A)·B + beta·C with B packed by <see cref="PackB"/>; op(A) is A or Aᵀ (A stored row-major with stride lda).</summary>
    public static void MultiplyPacked(bool transA, int m, int n, int k, float alpha, float* a, int lda, PackedMatrix b,
        float beta, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        if (b.IsLeftOperand || b.Rows != k || b.Cols != n) throw new ArgumentException("Packed B does not match K×N.", nameof(b));
        var d = new GemmDriver
        {
            Kernel = SgemmKernelTable.For(KernelIsa.Current), M = m, N = n, K = k, Alpha = alpha, Beta = beta, Epilogue = epilogue,
            A = a, Lda = lda, TransA = transA, BPacked = b.Buffer.Floats, C = c, Ldc = ldc,
        };
        d.Run(pool);
    }

    /// <summary>
    /// C[M×cols] = op(A)·B[k0 .. k0 + kRows, col0 .. col0 + cols) with B packed by <see cref="PackB"/>: a block of B's
    /// rows (depth) and columns, the columns starting on a 16-column panel (col0 a multiple of 16), A holding just those
    /// kRows. For a thread that computes its own share of the outputs, or its own part of the sum over K.
    /// </summary>
    /// <param name="next">A packed B of the same shape that this thread multiplies next with the same block (or null): its first
    /// slice is prefetched while this product ends.</param>
    internal static void MultiplyPackedSlice(bool transA, int m, int col0, int cols, int k0, int kRows, float* a, int lda, PackedMatrix b,
        float* c, int ldc, WorkerPool pool, PackedMatrix? next = null)
    {
        if (b.IsLeftOperand || col0 % 16 != 0 || col0 < 0 || cols < 1 || col0 + cols > b.Cols || k0 < 0 || kRows < 1 || k0 + kRows > b.Rows)
            throw new ArgumentException("Packed B does not hold this block.", nameof(b));
        var d = new GemmDriver
        {
            Kernel = SgemmKernelTable.For(KernelIsa.Current), M = m, N = cols, K = kRows, Alpha = 1f, Beta = 0f,
            A = a, Lda = lda, TransA = transA, BPacked = b.Buffer.Floats + (long)col0 * b.Rows + (long)k0 * 16, BPackedDepth = b.Rows,
            C = c, Ldc = ldc,
            NextB = next != null && next.Rows == b.Rows && next.Cols == b.Cols ? next.Buffer.Floats + (long)col0 * b.Rows + (long)k0 * 16 : null,
        };
        d.Run(pool);
    }

    /// <summary>C[M×N] = A·B with A packed by <see cref="PackA"/>; B is row-major K×N with row stride ldb.</summary>
    public static void MultiplyPackedA(PackedMatrix a, int n, float* b, int ldb, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
        => MultiplyPackedA(a, n, 1f, b, ldb, 0f, c, ldc, epilogue, pool);

    /// <summary>C = alpha·A·B + beta·C with A packed by <see cref="PackA"/>; B is row-major K×N with row stride ldb.</summary>
    public static void MultiplyPackedA(PackedMatrix a, int n, float alpha, float* b, int ldb, float beta, float* c, int ldc,
        in GemmEpilogue epilogue, WorkerPool pool)
    {
        if (!a.IsLeftOperand) throw new ArgumentException("Expected a packed left operand.", nameof(a));
        // The panels were cut for the tile of the tier in force when packing; that tier's kernel reads them.
        var d = new GemmDriver
        {
            Kernel = SgemmKernelTable.For(a.Isa), M = a.Rows, N = n, K = a.Cols, Alpha = alpha, Beta = beta, Epilogue = epilogue,
            APacked = a.Buffer.Floats, B = b, Ldb = ldb, C = c, Ldc = ldc,
        };
        d.Run(pool);
    }
}
