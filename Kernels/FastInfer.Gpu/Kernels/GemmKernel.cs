using ILGPU;
using ILGPU.Runtime;

namespace FastInfer.Gpu.Kernels;

/// <summary>
/// A batch of C = A·B (+ bias) (+ residual), activated, over row-major matrices. Batch index b splits into
/// (outer, inner) = (b / InnerCount, b % InnerCount) so one launch covers both images and convolution groups.
/// </summary>
internal struct GemmParams
{
    public int M, N, K;
    public int Lda, Ldb, Ldc;
    /// <summary>1: B is stored as [N, K] (Gemm transB).</summary>
    public int TransB;
    public int InnerCount;
    public long AOuter, AInner, BOuter, BInner, COuter, CInner;
    /// <summary>0 none, 1 one value per row, 2 one value per column.</summary>
    public int BiasKind;
    public int BiasInner;
    public int HasResidual;
    public int Activation;
    public float Alpha, Beta;
}

/// <summary>
/// Tiled SGEMM: a 16×16 group computes a 64×64 tile of C; each thread keeps a 4×4 block of results in
/// registers (rows ty+16i, columns tx+16j, so neighbouring threads touch neighbouring shared-memory words),
/// and the A and B panels go through shared memory 16 deep, one barrier pair per panel.
/// </summary>
internal static class GemmKernel
{
    public const int Tile = 64, Depth = 16, Threads = 16;

    public static KernelConfig Config(in GemmParams p, int batch) => new(
        new Index3D((p.N + Tile - 1) / Tile, (p.M + Tile - 1) / Tile, batch),
        new Index3D(Threads, Threads, 1));

    public static void Run(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, ArrayView<float> residual, GemmParams p)
    {
        var tileA = SharedMemory.Allocate<float>(Tile * Depth);
        var tileB = SharedMemory.Allocate<float>(Tile * Depth);
        int tx = Group.IdxX, ty = Group.IdxY;
        int col0 = Grid.IdxX * Tile, row0 = Grid.IdxY * Tile;
        int batch = Grid.IdxZ;
        int outer = batch / p.InnerCount, inner = batch - outer * p.InnerCount;
        long aBase = outer * p.AOuter + inner * p.AInner;
        long bBase = outer * p.BOuter + inner * p.BInner;
        long cBase = outer * p.COuter + inner * p.CInner;
        int t = ty * Threads + tx;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;

        for (int k0 = 0; k0 < p.K; k0 += Depth)
        {
            for (int l = 0; l < 4; l++)
            {
                int e = t + 256 * l;
                int am = e / Depth, ak = e - am * Depth;
                int gr = row0 + am, gk = k0 + ak;
                tileA[ak * Tile + am] = gr < p.M && gk < p.K ? a[aBase + (long)gr * p.Lda + gk] : 0f;
                int bk = e / Tile, bn = e - bk * Tile;
                int gk2 = k0 + bk, gc = col0 + bn;
                float bv = 0f;
                if (gk2 < p.K && gc < p.N)
                    bv = p.TransB != 0 ? b[bBase + (long)gc * p.Ldb + gk2] : b[bBase + (long)gk2 * p.Ldb + gc];
                tileB[bk * Tile + bn] = bv;
            }
            Group.Barrier();
            for (int kk = 0; kk < Depth; kk++)
            {
                int ra = kk * Tile + ty, rb = kk * Tile + tx;
                float a0 = tileA[ra], a1 = tileA[ra + 16], a2 = tileA[ra + 32], a3 = tileA[ra + 48];
                float b0 = tileB[rb], b1 = tileB[rb + 16], b2 = tileB[rb + 32], b3 = tileB[rb + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        int r = row0 + ty, cl = col0 + tx;
        Store(c, bias, residual, p, cBase, inner, r, cl, c00); Store(c, bias, residual, p, cBase, inner, r, cl + 16, c01);
        Store(c, bias, residual, p, cBase, inner, r, cl + 32, c02); Store(c, bias, residual, p, cBase, inner, r, cl + 48, c03);
        Store(c, bias, residual, p, cBase, inner, r + 16, cl, c10); Store(c, bias, residual, p, cBase, inner, r + 16, cl + 16, c11);
        Store(c, bias, residual, p, cBase, inner, r + 16, cl + 32, c12); Store(c, bias, residual, p, cBase, inner, r + 16, cl + 48, c13);
        Store(c, bias, residual, p, cBase, inner, r + 32, cl, c20); Store(c, bias, residual, p, cBase, inner, r + 32, cl + 16, c21);
        Store(c, bias, residual, p, cBase, inner, r + 32, cl + 32, c22); Store(c, bias, residual, p, cBase, inner, r + 32, cl + 48, c23);
        Store(c, bias, residual, p, cBase, inner, r + 48, cl, c30); Store(c, bias, residual, p, cBase, inner, r + 48, cl + 16, c31);
        Store(c, bias, residual, p, cBase, inner, r + 48, cl + 32, c32); Store(c, bias, residual, p, cBase, inner, r + 48, cl + 48, c33);
    }

    /// <summary>
    /// Skinny products (few rows: batch-1 dense layers): one thread per output element, a plain dot product.
    /// Neighbouring threads take neighbouring columns, so B is read coalesced and A's row is a broadcast; a 64-row
    /// tile would leave most of its threads idle here.
    /// </summary>
    public static void RunSkinny(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, ArrayView<float> residual, GemmParams p)
    {
        long i = index;
        int col = (int)(i % p.N);
        long rest = i / p.N;
        int row = (int)(rest % p.M);
        int batch = (int)(rest / p.M);
        int outer = batch / p.InnerCount, inner = batch - outer * p.InnerCount;
        long aRow = outer * p.AOuter + inner * p.AInner + (long)row * p.Lda;
        long bBase = outer * p.BOuter + inner * p.BInner;
        float sum = 0f;
        if (p.TransB != 0)
            for (int k = 0; k < p.K; k++) sum += a[aRow + k] * b[bBase + (long)col * p.Ldb + k];
        else
            for (int k = 0; k < p.K; k++) sum += a[aRow + k] * b[bBase + (long)k * p.Ldb + col];
        Store(c, bias, residual, p, outer * p.COuter + inner * p.CInner, inner, row, col, sum);
    }

    /// <summary>
    /// Split-K for skinny products with a long K (a dense layer over a large flattened image): thread
    /// (chunk, row, col) sums one K range into partial[chunk, row, col]; <see cref="ReduceSplitK"/> adds the chunks
    /// and applies the epilogue. Without it only M·N threads would each walk all of K. Single batch only.
    /// </summary>
    public static void SplitKPartial(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> partial, GemmParams p, int chunkLength)
    {
        long i = index;
        int col = (int)(i % p.N);
        long rest = i / p.N;
        int row = (int)(rest % p.M);
        int chunk = (int)(rest / p.M);
        int k0 = chunk * chunkLength;
        int k1 = XMathMin(k0 + chunkLength, p.K);
        long aRow = (long)row * p.Lda;
        float sum = 0f;
        if (p.TransB != 0)
            for (int k = k0; k < k1; k++) sum += a[aRow + k] * b[(long)col * p.Ldb + k];
        else
            for (int k = k0; k < k1; k++) sum += a[aRow + k] * b[(long)k * p.Ldb + col];
        partial[i] = sum;
    }

    public static void ReduceSplitK(Index1D index, ArrayView<float> partial, ArrayView<float> c, ArrayView<float> bias, ArrayView<float> residual, GemmParams p, int chunks)
    {
        long i = index;
        long plane = (long)p.M * p.N;
        float sum = 0f;
        for (int chunk = 0; chunk < chunks; chunk++) sum += partial[chunk * plane + i];
        Store(c, bias, residual, p, 0, 0, (int)(i / p.N), (int)(i % p.N), sum);
    }

    private static int XMathMin(int x, int y) => x < y ? x : y;

    /// <summary>K at or above which skinny products are split along K.</summary>
    public const int SplitKThreshold = 8192;

    /// <summary>Chunks for split-K: enough (row, col, chunk) threads to fill a GPU, each chunk at least 256 long.</summary>
    public static (int Chunks, int ChunkLength) SplitK(int m, int n, int k)
    {
        long wanted = Math.Max(1, 65536 / Math.Max(1L, (long)m * n));
        int chunks = (int)Math.Max(1, Math.Min((k + 255) / 256, wanted));
        int length = (k + chunks - 1) / chunks;
        return ((k + length - 1) / length, length);
    }

    /// <summary>Rows at or below which <see cref="RunSkinny"/> is used instead of the tiled kernel.</summary>
    public const int SkinnyRows = 8;

    internal static void Store(ArrayView<float> c, ArrayView<float> bias, ArrayView<float> residual, GemmParams p,
        long cBase, int inner, int row, int col, float value)
    {
        if (row >= p.M || col >= p.N) return;
        if (p.BiasKind == 1) value += bias[inner * p.BiasInner + row];
        else if (p.BiasKind == 2) value += bias[inner * p.BiasInner + col];
        long at = cBase + (long)row * p.Ldc + col;
        if (p.HasResidual != 0) value += residual[at];
        c[at] = DeviceMath.Activate(value, p.Activation, p.Alpha, p.Beta);
    }
}
