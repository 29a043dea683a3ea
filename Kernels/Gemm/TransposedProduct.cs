using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;
using FastInfer.Kernels.Threading;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// A product with both operands unpacked computed as Cᵀ = op(B)ᵀ·op(A)ᵀ into per-thread scratch, then transposed into C
/// with the epilogue. The AVX-512 tile is 12 rows (broadcast from A) by 32 columns (vectors of B): rows of any height from
/// 8 up run at the same speed, but an N tail of 1-24 columns runs on narrower, slower tiles. When N is narrow or ends in
/// such a tail and M is a multiple of 32, or wide (ResNet-18's layer4 as a GEMM, 512×49×4608: 49 = 32 + 17), the tail is
/// cheaper on the other side. The same K blocks give every element of C the same sequence of FMAs, so the result equals
/// the direct orientation's (bar a per-column bias added after, not before, the earlier K blocks' sum).
/// In-process, one thread (GFLOP/s direct → transposed): 512×49×4608 124 → 144, 512×20×1152 95 → 128, 512×36×1152 136
/// → 147, 256×49×4608 104 → 132, 128×49×4608 100 → 149, 64×49×4608 95 → 129; 128×784×1152 196 → 187 and 64×3136×576
/// 196 → 162 (B read in place, not packed, in the direct one), and once the kernel stored full tiles straight from its
/// accumulators, 256×196×2304 183 → 176: the choice is by shape (<see cref="Pays"/>).
/// </summary>
internal static unsafe class TransposedProduct
{
    /// <summary>Whether <see cref="Pays"/> may choose this route. A field for A/B runs.</summary>
    internal static bool Enabled = true;

    /// <summary>Largest Cᵀ held in scratch (floats): 16 MiB.</summary>
    private const long MaxScratchFloats = 4L << 20;

    /// <summary>
    /// Whether the transposed orientation is expected to be faster for this shape: AVX-512, beta 0 (C is not read), and
    /// the estimated tile efficiency at least 5% better, plus the transpose's cost (~10/K): below that the packing
    /// differences decide, either way (256×196×2304, 512×100×1152 and 512×300×1152 measured alike or worse transposed, and
    /// a short A's B is read in place by the direct orientation). Depends on the shape alone, never on the thread count.
    /// </summary>
    public static bool Pays(in SgemmKernelTable kernel, int m, int n, int k, float beta)
    {
        if (!Enabled || kernel.Isa != IsaLevel.Avx512 || kernel.Nr != 32 || beta != 0f) return false;
        if ((long)m * n > MaxScratchFloats || k < 64) return false;
        double direct = RowEfficiency(m, kernel.Mr) * ColumnEfficiency(n);
        double transposed = RowEfficiency(n, kernel.Mr) * ColumnEfficiency(m);
        return transposed >= direct * (1.05 + 10.0 / k);
    }

    /// <summary>
    /// Speed of a panel of even height (M shared out over ⌈M/Mr⌉ panels) relative to a full one: the AVX-512 tile with
    /// 1-7 rows has too few FMA chains (`profile kernel`: 1 row 24% of peak, 4 rows 80%, 6 rows 86%, 8-12 rows 90-91%).
    /// </summary>
    private static double RowEfficiency(int rows, int mr)
    {
        int panels = (rows + mr - 1) / mr;
        return (rows / panels) switch { 1 => 0.26, 2 => 0.52, 3 => 0.70, 4 => 0.88, 5 => 0.90, 6 => 0.95, 7 => 0.97, _ => 1.0 };
    }

    /// <summary>
    /// Columns computed per unit of a full 32-column tile's time: a tail of 1-8 columns runs on the column kernel, 9-16
    /// on the 16-column tile (83% of peak against 94%: 0.56 of a full tile's time), 17-24 on both.
    /// </summary>
    private static double ColumnEfficiency(int cols)
    {
        int tail = cols % 32;
        double tailCost = tail switch { 0 => 0, <= 4 => 0.3, <= 8 => 0.45, <= 16 => 0.56, <= 24 => 0.86, _ => 1.0 };
        return cols / (32.0 * (cols / 32 + tailCost));
    }

    /// <summary>C = alpha·op(A)·op(B) + epilogue (beta 0), through Cᵀ in scratch.</summary>
    public static void Multiply(in SgemmKernelTable kernel, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc, in GemmEpilogue epilogue, WorkerPool pool)
    {
        // Cᵀ rows are M floats; 16 more at the end so a 16×16 transpose of the last rows' final block reads inside the buffer.
        float* ct = Scratch((long)n * m + 16);
        var d = new GemmDriver
        {
            Kernel = kernel, M = n, N = m, K = k, Alpha = alpha, Beta = 0f,
            A = b, Lda = ldb, TransA = !transB, B = a, Ldb = lda, TransB = !transA, C = ct, Ldc = m,
        };
        d.Run(pool);
        var store = new TransposingStore { Source = ct, M = m, N = n, C = c, Ldc = ldc, Epilogue = epilogue };
        pool.For((m + 15) / 16, ref store);
    }

    /// <summary>
    /// The calling thread's Cᵀ buffer: its own, not <see cref="ThreadScratch"/>'s, which a caller may be holding (an im2col
    /// band multiplied in place).
    /// </summary>
    [ThreadStatic] private static AlignedBuffer? t_scratch;

    private static float* Scratch(long floats) => ThreadScratch.Grow(ref t_scratch, floats);

    /// <summary>
    /// Part i: rows [16i, 16i + 16) of C from columns of Cᵀ, 16×16 blocks transposed in registers into a tile that
    /// <see cref="TileStore512.Tile"/> stores with the epilogue, as the direct orientation's last K block would.
    /// </summary>
    private struct TransposingStore : IParallelBody
    {
        public float* Source;
        public int M, N;
        public float* C;
        public int Ldc;
        public GemmEpilogue Epilogue;

        public void Invoke(int part)
        {
            int i0 = part * 16, rows = Math.Min(16, M - i0);
            // A tile of rows 32 floats apart, as TileStore512 reads it; 16 of them used.
            float* tile = stackalloc float[16 * 32];
            var ctx = new TileContext(1f, 0f, Epilogue);
            for (int j0 = 0; j0 < N; j0 += 16)
            {
                int cols = Math.Min(16, N - j0);
                // tile[t·32 + r] = Cᵀ[j0 + r][i0 + t] = C[i0 + t][j0 + r]; rows r ≥ cols come back as zeros.
                PackTranspose.Block16(Source + (long)j0 * M + i0, M, cols, tile, 32);
                TileStore512.Tile(C + (long)i0 * Ldc + j0, Ldc, tile, rows, cols, i0, j0, &ctx);
            }
        }
    }
}
