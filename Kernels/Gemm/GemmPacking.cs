using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// The packed layouts the micro-kernels stream.
/// B: 16-column panels, zero-padded past N; panel j holds kc rows of 16 floats (row p at p·16), panels
/// <c>16·kc</c> floats apart. Prepacked weights use kc = K, so any K block is a contiguous slice of each panel.
/// A: Mr-row panels over K, row-interleaved (element (i, p) at p·R + i, R = rows in that panel); the last
/// panel keeps only its real rows, so a prepacked A is exactly M·K floats and panel q starts at q·Mr·K.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Rows ahead <see cref="PackB"/> prefetches a row-major B's slices; 0 for none (a switch for the benchmarks' A/B).
    /// In-process A/B, one thread: 64×3136×576 125 vs 110 GFLOP/s, 64×12544×147 124 vs 104, 128×784×1152 152 vs 142,
    /// 256×196×2304 149 vs 141, 256³ 168 vs 152; 1024³ and 512×49×4608 unchanged. Ahead 2, 4 and 8 measured alike.
    /// </summary>
    internal static int PrefetchRowsAhead = 4;

    /// <summary>Packs op(B)[k0.., n0..] (kc × ncols) into 16-column panels at dst, panel stride 16·kc.</summary>
    public static void PackB(bool transB, float* b, long ldb, int k0, int kc, int n0, int ncols, float* dst)
    {
        int panels = (ncols + 15) / 16;
        if (!transB)
        {
            int full = ncols / 16, rem = ncols - full * 16;
            // Each row's slice of a wide B is a short stream of its own (ldb apart), too short for the hardware
            // prefetcher: fetch the slice a few rows ahead while this one is copied.
            int ahead = PrefetchRowsAhead;
            for (int p = 0; p < kc; p++)
            {
                float* src = b + (k0 + p) * ldb + n0;
                float* d = dst + p * 16;
                if (ahead > 0 && p + ahead < kc)
                {
                    float* next = src + ahead * ldb;
                    for (int j = 0; j < ncols; j += 16) Sse.Prefetch0(next + j);
                }
                for (int j = 0; j < full; j++)
                {
                    Vector256.Store(Vector256.Load(src + j * 16), d + (long)j * 16 * kc);
                    Vector256.Store(Vector256.Load(src + j * 16 + 8), d + (long)j * 16 * kc + 8);
                }
                if (rem > 0)
                {
                    float* dd = d + (long)full * 16 * kc;
                    int jj = 0;
                    for (; jj < rem; jj++) dd[jj] = src[full * 16 + jj];
                    for (; jj < 16; jj++) dd[jj] = 0f;
                }
            }
            return;
        }
        for (int j = 0; j < panels; j++)
        {
            float* d = dst + (long)j * 16 * kc;
            int width = Math.Min(16, ncols - j * 16);
            if (width == 16 && Avx512F.IsSupported)
            {
                float* src = b + (long)(n0 + j * 16) * ldb + k0;
                int p = 0;
                for (; p + 16 <= kc; p += 16) PackTranspose.Block16(src + p, ldb, 16, d + p * 16, 16);
                for (; p < kc; p++)
                    for (int jj = 0; jj < 16; jj++) d[p * 16 + jj] = src[jj * ldb + p];
                continue;
            }
            for (int jj = 0; jj < 16; jj++)
            {
                if (jj >= width) { for (int p = 0; p < kc; p++) d[p * 16 + jj] = 0f; continue; }
                float* src = b + (long)(n0 + j * 16 + jj) * ldb + k0;
                for (int p = 0; p < kc; p++) d[p * 16 + jj] = src[p];
            }
        }
    }

    /// <summary>Packs rows [row0, row0+rows) and depth [k0, k0+kc) of op(A) row-interleaved at dst.</summary>
    public static void PackA(bool transA, float* a, long lda, int row0, int rows, int k0, int kc, float* dst)
    {
        if (transA)
        {
            if (rows == 12)
            {
                // One 8-float and one 4-float move per depth step (the pixel-rows convolution packs 4608 × 49 this way).
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (k0 + p) * lda + row0;
                    Vector256.Store(Vector256.Load(src), dst + p * 12);
                    Vector128.Store(Vector128.Load(src + 8), dst + p * 12 + 8);
                }
                return;
            }
            if (Avx512F.IsSupported && rows <= 16)
            {
                // Any other panel height: one masked move per depth step.
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rows)).AsSingle();
                for (int p = 0; p < kc; p++)
                    Avx512F.MaskStore(dst + p * rows, mask, Avx512F.MaskLoad(a + (k0 + p) * lda + row0, mask, Vector512<float>.Zero));
                return;
            }
            for (int p = 0; p < kc; p++)
            {
                float* src = a + (k0 + p) * lda + row0;
                for (int i = 0; i < rows; i++) dst[p * rows + i] = src[i];
            }
            return;
        }
        // Depth outer, rows inner: the writes are one contiguous stream and the reads `rows` sequential
        // ones, instead of `rows` passes of stores strided by rows·4 bytes (whole GEMMs with an unpacked
        // A measured ~10% faster this way at 256³, ~5% at 1024³).
        float* s0 = a + row0 * lda + k0;
        if (rows == 12)
        {
            int p = 0;
            if (Avx512F.IsSupported)
                for (; p + 16 <= kc; p += 16, dst += 16 * 12, s0 += 16) PackTranspose.Block16(s0, lda, 12, dst, 12);
            for (; p < kc; p++, dst += 12, s0++)
            {
                float* s = s0;
                dst[0] = s[0]; s += lda; dst[1] = s[0]; s += lda; dst[2] = s[0]; s += lda; dst[3] = s[0]; s += lda;
                dst[4] = s[0]; s += lda; dst[5] = s[0]; s += lda; dst[6] = s[0]; s += lda; dst[7] = s[0]; s += lda;
                dst[8] = s[0]; s += lda; dst[9] = s[0]; s += lda; dst[10] = s[0]; s += lda; dst[11] = s[0];
            }
            return;
        }
        int q = 0;
        // 8 rows or more: 16×16 transposes whose overlapping whole-vector stores stay inside the 16-step block.
        if (Avx512F.IsSupported && rows >= 8 && rows <= 16)
            for (; q + 16 <= kc; q += 16, dst += 16 * rows, s0 += 16) PackTranspose.Block16(s0, lda, rows, dst, rows);
        for (int p = q; p < kc; p++, dst += rows, s0++)
        {
            float* s = s0;
            for (int i = 0; i < rows; i++, s += lda) dst[i] = *s;
        }
    }
}
