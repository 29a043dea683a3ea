using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// SGEMM micro-kernel, AVX2 + FMA3: a 6×16 tile of C in 12 ymm accumulators (+2 B vectors and a broadcast:
/// 15 of 16 registers). Generic over the row count for M tails; N tails use vmaskmovps.
/// </summary>
internal static unsafe class SgemmKernel6x16Avx2
{
    public const int Mr = 6;
    /// <summary>Columns per tile: 2 vectors of 8 floats, read from 16-column packed B panels.</summary>
    public const int Nr = 16;

    /// <param name="a">Packed A slice: kc steps of <paramref name="rows"/> floats.</param>
    /// <param name="b">Packed B slice of the first 16-column panel: kc steps of 16 floats; the next panel starts at b + bPanelStride.</param>
    public static void Run(int rows, int cols, float* a, float* b, nint bPanelStride, int kc, float* c, nint ldc, int row0, int col0, TileContext* t)
    {
        switch (rows)
        {
            case 1: Tile<R1>(a, b, kc, c, ldc, row0, col0, cols, t); return;
            case 2: Tile<R2>(a, b, kc, c, ldc, row0, col0, cols, t); return;
            case 3: Tile<R3>(a, b, kc, c, ldc, row0, col0, cols, t); return;
            case 4: Tile<R4>(a, b, kc, c, ldc, row0, col0, cols, t); return;
            case 5: Tile<R5>(a, b, kc, c, ldc, row0, col0, cols, t); return;
            case 6: Tile<R6>(a, b, kc, c, ldc, row0, col0, cols, t); return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate) { v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

    [SkipLocalsInit]
    private static void Tile<TRows>(float* a, float* b, int kc, float* c, nint ldc, int row0, int col0, int cols, TileContext* t)
        where TRows : struct, IRowCount
    {
        int R = TRows.Value;
        // Decided before the k loop, from the context alone (no static field: see SgemmKernel12x32Avx512).
        bool plainStore = t->PlainStores && cols >= 16 && t->MergesPlainly && (!t->Last || t->EpilogueIsEmpty);
        bool accumulate = !t->First;
        Vector256<float> c0_0 = default, c0_1 = default;
        Vector256<float> c1_0 = default, c1_1 = default;
        Vector256<float> c2_0 = default, c2_1 = default;
        Vector256<float> c3_0 = default, c3_1 = default;
        Vector256<float> c4_0 = default, c4_1 = default;
        Vector256<float> c5_0 = default, c5_1 = default;
        for (int p = 0; p < kc; p++)
        {
            var bv0 = Vector256.Load(b + 0);
            var bv1 = Vector256.Load(b + 8);
            { var a0 = Vector256.Create(a[0]); c0_0 = Fma.MultiplyAdd(a0, bv0, c0_0); c0_1 = Fma.MultiplyAdd(a0, bv1, c0_1); }
            if (R > 1) { var a1 = Vector256.Create(a[1]); c1_0 = Fma.MultiplyAdd(a1, bv0, c1_0); c1_1 = Fma.MultiplyAdd(a1, bv1, c1_1); }
            if (R > 2) { var a2 = Vector256.Create(a[2]); c2_0 = Fma.MultiplyAdd(a2, bv0, c2_0); c2_1 = Fma.MultiplyAdd(a2, bv1, c2_1); }
            if (R > 3) { var a3 = Vector256.Create(a[3]); c3_0 = Fma.MultiplyAdd(a3, bv0, c3_0); c3_1 = Fma.MultiplyAdd(a3, bv1, c3_1); }
            if (R > 4) { var a4 = Vector256.Create(a[4]); c4_0 = Fma.MultiplyAdd(a4, bv0, c4_0); c4_1 = Fma.MultiplyAdd(a4, bv1, c4_1); }
            if (R > 5) { var a5 = Vector256.Create(a[5]); c5_0 = Fma.MultiplyAdd(a5, bv0, c5_0); c5_1 = Fma.MultiplyAdd(a5, bv1, c5_1); }
            a += R;
            b += 16;
        }
        if (plainStore)
        {
            // Nothing but a store or an accumulate to do: straight from the accumulators, no stack tile or call. With the
            // JIT held to AVX2's 16 registers (DOTNET_EnableAVX512F=0), 6×16 at kc = 64 86% → 92% of the AVX2 peak, 1024³
            // +2.3-2.9%, 64×3136×576 +2.4-3.3% (in-process A/B); the k loop keeps its accumulators in registers.
            StoreRow(c, c0_0, c0_1, accumulate);
            if (R > 1) StoreRow(c + ldc, c1_0, c1_1, accumulate);
            if (R > 2) StoreRow(c + 2 * ldc, c2_0, c2_1, accumulate);
            if (R > 3) StoreRow(c + 3 * ldc, c3_0, c3_1, accumulate);
            if (R > 4) StoreRow(c + 4 * ldc, c4_0, c4_1, accumulate);
            if (R > 5) StoreRow(c + 5 * ldc, c5_0, c5_1, accumulate);
            return;
        }
        float* tile = stackalloc float[6 * 16];
        { Vector256.Store(c0_0, tile + 0); Vector256.Store(c0_1, tile + 8); }
        if (R > 1) { Vector256.Store(c1_0, tile + 16); Vector256.Store(c1_1, tile + 24); }
        if (R > 2) { Vector256.Store(c2_0, tile + 32); Vector256.Store(c2_1, tile + 40); }
        if (R > 3) { Vector256.Store(c3_0, tile + 48); Vector256.Store(c3_1, tile + 56); }
        if (R > 4) { Vector256.Store(c4_0, tile + 64); Vector256.Store(c4_1, tile + 72); }
        if (R > 5) { Vector256.Store(c5_0, tile + 80); Vector256.Store(c5_1, tile + 88); }
        // Accumulators go to the stack before the epilogue's calls: otherwise the JIT keeps them in memory
        // across the whole k loop (all vector registers are caller-saved), spilling on every FMA.
        TileStore256.Tile(c, ldc, tile, R, cols, row0, col0, t);
    }
}
