using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// Matrix-vector products for a single row of A (batch 1 through a fully connected layer): y = x·W (+ bias, activation).
/// At M = 1 the work is one pass over W, so the speed is the memory bandwidth and the weight is read in place, never
/// packed (packing would copy a multi-GB weight once more and read it twice). Threads take contiguous slices of W so
/// each streams sequentially; partial sums meet in a small scratch buffer. The loops are compiled fully optimized
/// from the start: a batch-1 model's first run would otherwise stream its largest weight through tier-0 code.
/// </summary>
public static unsafe class Gemv
{
    /// <summary>Most slices a product is split into; the scratch holds one partial y per slice.</summary>
    public const int MaxParts = 16;

    /// <summary>Floats of scratch <see cref="Multiply"/> needs for <paramref name="n"/> outputs.</summary>
    public static long ScratchFloats(int n) => (long)MaxParts * n;

    /// <summary>
    /// y[j] = Σ_k x[k]·W(k, j), then the epilogue (per-column bias, activation; residual unsupported). W is [k×n] with
    /// row stride <paramref name="ldw"/>, or [n×k] when <paramref name="transposed"/>.
    /// </summary>
    /// <param name="scratch">At least <see cref="ScratchFloats"/>(n) floats.</param>
    public static void Multiply(bool transposed, int k, int n, float* x, float* w, long ldw, float* y, in GemmEpilogue epilogue, float* scratch, WorkerPool pool)
    {
        if (n <= 0) return;
        if (epilogue.Residual != null || epilogue.BiasKind == BiasKind.PerRow)
            throw new ArgumentException("Gemv supports a per-column bias and an activation only", nameof(epilogue));
        // Slices of at least 256 KB of W each, so a thread's hand-off cost is small against its share of the stream.
        long bytes = (long)k * n * sizeof(float);
        int parts = (int)Math.Clamp(bytes / (256 << 10), 1, Math.Min(MaxParts, pool.Concurrency));
        if (transposed)
        {
            parts = Math.Min(parts, n);
            var body = new TransposedBody { K = k, N = n, X = x, W = w, Ldw = ldw, Y = y, Parts = parts };
            pool.For(parts, ref body);
            for (int j = 0; j < n; j++) y[j] = epilogue.Apply(y[j], 0, j);
            return;
        }
        parts = Math.Min(parts, Math.Max(1, k));
        var rows = new RowMajorBody { K = k, N = n, X = x, W = w, Ldw = ldw, Scratch = scratch, Parts = parts };
        pool.For(parts, ref rows);
        for (int j = 0; j < n; j++)
        {
            float s = 0;
            for (int p = 0; p < parts; p++) s += scratch[(long)p * n + j];
            y[j] = epilogue.Apply(s, 0, j);
        }
    }

    /// <summary>The definition, for tests: one scalar loop in double precision.</summary>
    public static void Reference(bool transposed, int k, int n, float* x, float* w, long ldw, float* y, in GemmEpilogue epilogue)
    {
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int i = 0; i < k; i++) s += (double)x[i] * (transposed ? w[j * ldw + i] : w[i * ldw + j]);
            y[j] = epilogue.Apply((float)s, 0, j);
        }
    }

    private struct RowMajorBody : IParallelBody
    {
        public int K, N, Parts;
        public float* X, W, Scratch;
        public long Ldw;

        public readonly void Invoke(int part)
        {
            int k0 = (int)((long)K * part / Parts), k1 = (int)((long)K * (part + 1) / Parts);
            float* acc = Scratch + (long)part * N;
            RowSlice(k0, k1, N, X, W, Ldw, acc);
        }
    }

    /// <summary>acc[0..n) = Σ_{k0≤i&lt;k1} x[i]·W[i, 0..n): column tiles held in registers while the rows stream past.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowSlice(int k0, int k1, int n, float* x, float* w, long ldw, float* acc)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 128 <= n; j += 128) Tile512x8(k0, k1, x, w + j, ldw, acc + j);
            for (; j + 16 <= n; j += 16)
            {
                var a = Vector512<float>.Zero;
                for (int i = k0; i < k1; i++) a = Vector512.FusedMultiplyAdd(Vector512.Create(x[i]), Vector512.Load(w + i * ldw + j), a);
                a.Store(acc + j);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64) Tile256x8(k0, k1, x, w + j, ldw, acc + j);
            for (; j + 8 <= n; j += 8)
            {
                var a = Vector256<float>.Zero;
                for (int i = k0; i < k1; i++) a = Vector256.FusedMultiplyAdd(Vector256.Create(x[i]), Vector256.Load(w + i * ldw + j), a);
                a.Store(acc + j);
            }
        }
        for (; j < n; j++)
        {
            float a = 0;
            for (int i = k0; i < k1; i++) a = MathF.FusedMultiplyAdd(x[i], w[i * ldw + j], a);
            acc[j] = a;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512x8(int k0, int k1, float* x, float* w, long ldw, float* acc)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        float* row = w + k0 * ldw;
        // Touch the weight ~16 KiB ahead: the hardware prefetchers stop at each 4 KiB page (a file mapping has no huge
        // pages), so this starts the next pages' TLB walks and line fills before the FMAs need them.
        long ahead = Math.Max(1, 16384 / (ldw * sizeof(float))) * ldw;
        for (int i = k0; i < k1; i++, row += ldw)
        {
            Sse.Prefetch0(row + ahead);
            var s = Vector512.Create(x[i]);
            a0 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row), a0);
            a1 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row + 48), a3);
            a4 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row + 64), a4);
            a5 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row + 80), a5);
            a6 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row + 96), a6);
            a7 = Vector512.FusedMultiplyAdd(s, Vector512.Load(row + 112), a7);
        }
        a0.Store(acc); a1.Store(acc + 16); a2.Store(acc + 32); a3.Store(acc + 48);
        a4.Store(acc + 64); a5.Store(acc + 80); a6.Store(acc + 96); a7.Store(acc + 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256x8(int k0, int k1, float* x, float* w, long ldw, float* acc)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        float* row = w + k0 * ldw;
        for (int i = k0; i < k1; i++, row += ldw)
        {
            var s = Vector256.Create(x[i]);
            a0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row), a0);
            a1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row + 8), a1);
            a2 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row + 16), a2);
            a3 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row + 24), a3);
            a4 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row + 32), a4);
            a5 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row + 40), a5);
            a6 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row + 48), a6);
            a7 = Vector256.FusedMultiplyAdd(s, Vector256.Load(row + 56), a7);
        }
        a0.Store(acc); a1.Store(acc + 8); a2.Store(acc + 16); a3.Store(acc + 24);
        a4.Store(acc + 32); a5.Store(acc + 40); a6.Store(acc + 48); a7.Store(acc + 56);
    }

    private struct TransposedBody : IParallelBody
    {
        public int K, N, Parts;
        public float* X, W, Y;
        public long Ldw;

        /// <summary>Rows [j0, j1) of W·x, blocked over k so the slice of x stays in L1/L2 while the rows stream.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int part)
        {
            int j0 = (int)((long)N * part / Parts), j1 = (int)((long)N * (part + 1) / Parts);
            const int Block = 8192;
            for (int j = j0; j < j1; j++) Y[j] = 0;
            for (int kb = 0; kb < K; kb += Block)
            {
                int len = Math.Min(Block, K - kb);
                var xs = new ReadOnlySpan<float>(X + kb, len);
                for (int j = j0; j < j1; j++) Y[j] += TensorPrimitives.Dot(xs, new ReadOnlySpan<float>(W + j * Ldw + kb, len));
            }
        }
    }
}
