using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// SGEMM micro-kernel, AVX-512 F: a 12×32 tile of C in 24 zmm accumulators (+2 B vectors and a broadcast:
/// 27 of 32 registers), one FMA per accumulator per k. Generic over the row count, so M tails (1–11 rows)
/// and the 16-column N tail get their own register-blocked instantiations; partial columns use masked
/// loads/stores, and tails of up to 8 columns go to <see cref="SgemmColumnTailAvx512"/>. The epilogue is applied while the tile is in registers.
/// </summary>
internal static unsafe class SgemmKernel12x32Avx512
{
    public const int Mr = 12;
    /// <summary>Columns per tile: 2 vectors of 16 floats, read from 16-column packed B panels.</summary>
    public const int Nr = 32;
    /// <summary>Fewest rows for which a call takes on its share of the next B slice's prefetch (<see cref="TileContext.Prefetch"/>).</summary>
    public const int PrefetchRows = 8;

    /// <summary>K steps before the end of the loop at which the C tile is prefetched (16, 32, 48 and 96 measured alike).</summary>
    private const int CPrefetchSteps = 32;

    /// <param name="a">Packed A slice: kc steps of <paramref name="rows"/> floats.</param>
    /// <param name="b">Packed B slice of the first 16-column panel: kc steps of 16 floats (<see cref="TileContext.BStep"/> apart); the next panel starts at b + bPanelStride.</param>
    public static void Run(int rows, int cols, float* a, float* b, nint bPanelStride, int kc, float* c, nint ldc, int row0, int col0, TileContext* t)
    {
        if (cols > 16 && cols - 16 <= SgemmColumnTailAvx512.MaxCols && SgemmColumnTailAvx512.Enabled && t->Prefetch == null)
        {
            // 17-24 columns (a 49-tile Winograd product's tail): 16 on the 16-wide tile and the rest by columns, 12 + 8
            // FMAs per k step at most instead of the 32-wide tile's 24. (Not for a call that prefetches the next B
            // slice: only the 32-wide tile carries that share.)
            NarrowTile(rows, 16, a, b, bPanelStride, kc, c, ldc, row0, col0, t);
            SgemmColumnTailAvx512.Run(rows, cols - 16, a, b + bPanelStride, kc, c + 16, ldc, row0, col0 + 16, t);
            return;
        }
        if (cols > 16)
        {
            if (rows >= PrefetchRows && t->Prefetch != null)
            {
                switch (rows)
                {
                    case 8: Tile<R8, Wide, Prefetching>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                    case 9: Tile<R9, Wide, Prefetching>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                    case 10: Tile<R10, Wide, Prefetching>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                    case 11: Tile<R11, Wide, Prefetching>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                    default: Tile<R12, Wide, Prefetching>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                }
            }
            if (rows == 12 && t->PrefetchA != null) { Tile<R12, Wide, PrefetchingA>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return; }
            switch (rows)
            {
                case 1: Tile<R1, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 2: Tile<R2, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 3: Tile<R3, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 4: Tile<R4, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 5: Tile<R5, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 6: Tile<R6, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 7: Tile<R7, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 8: Tile<R8, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 9: Tile<R9, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 10: Tile<R10, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 11: Tile<R11, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
                case 12: Tile<R12, Wide, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            }
            return;
        }
        if (cols <= SgemmColumnTailAvx512.MaxCols && SgemmColumnTailAvx512.Enabled)
        {
            SgemmColumnTailAvx512.Run(rows, cols, a, b, kc, c, ldc, row0, col0, t);
            return;
        }
        NarrowTile(rows, cols, a, b, bPanelStride, kc, c, ldc, row0, col0, t);
    }

    /// <summary>A tile of up to 16 columns: one B vector per k step.</summary>
    private static void NarrowTile(int rows, int cols, float* a, float* b, nint bPanelStride, int kc, float* c, nint ldc, int row0, int col0, TileContext* t)
    {
        switch (rows)
        {
            case 1: Tile<R1, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 2: Tile<R2, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 3: Tile<R3, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 4: Tile<R4, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 5: Tile<R5, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 6: Tile<R6, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 7: Tile<R7, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 8: Tile<R8, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 9: Tile<R9, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 10: Tile<R10, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 11: Tile<R11, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
            case 12: Tile<R12, Narrow, NoPrefetch>(a, b, bPanelStride, kc, c, ldc, row0, col0, cols, t); return;
        }
    }

    private struct Wide : IRowCount { public static int Value => 2; }
    private struct Narrow : IRowCount { public static int Value => 1; }
    /// <summary>Whether the k loop prefetches the next B slice (<see cref="TileContext.Prefetch"/>): 1 or 0.</summary>
    private struct Prefetching : IRowCount { public static int Value => 1; }
    /// <summary>Whether the k loop prefetches the next A panel slice (<see cref="TileContext.PrefetchA"/>): 2.</summary>
    private struct PrefetchingA : IRowCount { public static int Value => 2; }
    private struct NoPrefetch : IRowCount { public static int Value => 0; }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows, TWidth, TPrefetch>(float* a, float* b, nint bPanelStride, int kc, float* c, nint ldc, int row0, int col0, int cols, TileContext* t)
        where TRows : struct, IRowCount where TWidth : struct, IRowCount where TPrefetch : struct, IRowCount
    {
        int R = TRows.Value;
        bool prefetch = TPrefetch.Value == 1, prefetchA = TPrefetch.Value == 2;
        float* next = prefetch ? t->Prefetch : null;
        float* nextA = prefetchA ? t->PrefetchA : null;
        float* nextSecond = prefetch ? next + t->PrefetchPanelStride : null;
        int interval = prefetch ? t->PrefetchInterval : 1, countdown = 1;
        nint bStep = t->BStep;
        bool two = TWidth.Value == 2;
        // Decided before the k loop, so that after it the accumulators go straight to C or to the stack tile.
        // (No static fields are read here: a class-initialization check is a call, and the JIT, sinking the read past the
        // loop, then kept all 24 accumulators in memory, storing each after every FMA: 20% of peak.)
        bool plainStore = t->PlainStores && cols >= (two ? 32 : 16) && t->MergesPlainly
            && (!t->Last || RowEpilogue512.IsInline(t->Activation.Kind));
        float* bNext = b + bPanelStride;
        // Pull the C tile toward L1 while the k loop runs, so its misses do not stall the stores: with a large M×N
        // block, C rows (ldc apart, one TLB page each for wide C) are cold by the time the next K block comes back to
        // them. Late in the loop (CPrefetchSteps before its end), not at its start: a 384-step loop streams a 48 KiB B
        // slice, all of L1, which evicted lines fetched at the start (in-process A/B, one thread: 1024³ +1.2%, 256×196×2304
        // with A prepacked +3.7%). Only for long k loops; short ones (Winograd's per-point GEMMs) have their C in cache.
        int prefetchCAt = kc >= 128 ? kc - CPrefetchSteps : -1;
        Vector512<float> c0_0 = default, c0_1 = default;
        Vector512<float> c1_0 = default, c1_1 = default;
        Vector512<float> c2_0 = default, c2_1 = default;
        Vector512<float> c3_0 = default, c3_1 = default;
        Vector512<float> c4_0 = default, c4_1 = default;
        Vector512<float> c5_0 = default, c5_1 = default;
        Vector512<float> c6_0 = default, c6_1 = default;
        Vector512<float> c7_0 = default, c7_1 = default;
        Vector512<float> c8_0 = default, c8_1 = default;
        Vector512<float> c9_0 = default, c9_1 = default;
        Vector512<float> c10_0 = default, c10_1 = default;
        Vector512<float> c11_0 = default, c11_1 = default;
        for (int p = 0; p < kc; p++)
        {
            if (p == prefetchCAt)
            {
                float* cr = c;
                for (int r = 0; r < R; r++, cr += ldc)
                {
                    Sse.Prefetch0(cr);
                    if (two) Sse.Prefetch0(cr + 16);
                }
            }
            if (prefetch && --countdown == 0)
            {
                // One 64-byte line of each panel of the next slice every PrefetchInterval k steps: this call's share
                // of the slice, spread over its whole loop.
                countdown = interval;
                Sse.Prefetch1(next);
                Sse.Prefetch1(nextSecond);
                next += bStep;
                nextSecond += bStep;
            }
            if (prefetchA)
            {
                // The next panel's slice is 48 bytes per k step: one prefetch per step touches every line.
                Sse.Prefetch1(nextA);
                nextA += 12;
            }
            var bv0 = Vector512.Load(b);
            var bv1 = two ? Vector512.Load(bNext) : Vector512<float>.Zero;
            { var a0 = Vector512.Create(a[0]); c0_0 = Avx512F.FusedMultiplyAdd(a0, bv0, c0_0); if (two) c0_1 = Avx512F.FusedMultiplyAdd(a0, bv1, c0_1); }
            if (R > 1) { var a1 = Vector512.Create(a[1]); c1_0 = Avx512F.FusedMultiplyAdd(a1, bv0, c1_0); if (two) c1_1 = Avx512F.FusedMultiplyAdd(a1, bv1, c1_1); }
            if (R > 2) { var a2 = Vector512.Create(a[2]); c2_0 = Avx512F.FusedMultiplyAdd(a2, bv0, c2_0); if (two) c2_1 = Avx512F.FusedMultiplyAdd(a2, bv1, c2_1); }
            if (R > 3) { var a3 = Vector512.Create(a[3]); c3_0 = Avx512F.FusedMultiplyAdd(a3, bv0, c3_0); if (two) c3_1 = Avx512F.FusedMultiplyAdd(a3, bv1, c3_1); }
            if (R > 4) { var a4 = Vector512.Create(a[4]); c4_0 = Avx512F.FusedMultiplyAdd(a4, bv0, c4_0); if (two) c4_1 = Avx512F.FusedMultiplyAdd(a4, bv1, c4_1); }
            if (R > 5) { var a5 = Vector512.Create(a[5]); c5_0 = Avx512F.FusedMultiplyAdd(a5, bv0, c5_0); if (two) c5_1 = Avx512F.FusedMultiplyAdd(a5, bv1, c5_1); }
            if (R > 6) { var a6 = Vector512.Create(a[6]); c6_0 = Avx512F.FusedMultiplyAdd(a6, bv0, c6_0); if (two) c6_1 = Avx512F.FusedMultiplyAdd(a6, bv1, c6_1); }
            if (R > 7) { var a7 = Vector512.Create(a[7]); c7_0 = Avx512F.FusedMultiplyAdd(a7, bv0, c7_0); if (two) c7_1 = Avx512F.FusedMultiplyAdd(a7, bv1, c7_1); }
            if (R > 8) { var a8 = Vector512.Create(a[8]); c8_0 = Avx512F.FusedMultiplyAdd(a8, bv0, c8_0); if (two) c8_1 = Avx512F.FusedMultiplyAdd(a8, bv1, c8_1); }
            if (R > 9) { var a9 = Vector512.Create(a[9]); c9_0 = Avx512F.FusedMultiplyAdd(a9, bv0, c9_0); if (two) c9_1 = Avx512F.FusedMultiplyAdd(a9, bv1, c9_1); }
            if (R > 10) { var a10 = Vector512.Create(a[10]); c10_0 = Avx512F.FusedMultiplyAdd(a10, bv0, c10_0); if (two) c10_1 = Avx512F.FusedMultiplyAdd(a10, bv1, c10_1); }
            if (R > 11) { var a11 = Vector512.Create(a[11]); c11_0 = Avx512F.FusedMultiplyAdd(a11, bv0, c11_0); if (two) c11_1 = Avx512F.FusedMultiplyAdd(a11, bv1, c11_1); }
            a += R;
            b += bStep;
            bNext += bStep;
        }
        if (plainStore)
        {
            // A full tile (32 columns, or 16 on the narrow one) with alpha 1 and at most a cheap activation: straight from
            // the accumulators to C (RowEpilogue512, as TileStore512 stores), with no stack tile or call.
            // Alone in L1 (`profile kernel`), 12×32 at kc = 64 went from 79% to 94% of peak and 12×16 at kc = 256 from 64%
            // to 83%; ResNet-18, whose Winograd products have no epilogue, 3.5-3.8% faster at one and two threads
            // (in-process A/B, before the epilogue came here too).
            var e = new RowEpilogue512(t, row0, col0, two);
            e.Store(c, c0_0, c0_1, 0, anyActivation: false);
            if (R > 1) e.Store(c + ldc, c1_0, c1_1, 1, anyActivation: false);
            if (R > 2) e.Store(c + 2 * ldc, c2_0, c2_1, 2, anyActivation: false);
            if (R > 3) e.Store(c + 3 * ldc, c3_0, c3_1, 3, anyActivation: false);
            if (R > 4) e.Store(c + 4 * ldc, c4_0, c4_1, 4, anyActivation: false);
            if (R > 5) e.Store(c + 5 * ldc, c5_0, c5_1, 5, anyActivation: false);
            if (R > 6) e.Store(c + 6 * ldc, c6_0, c6_1, 6, anyActivation: false);
            if (R > 7) e.Store(c + 7 * ldc, c7_0, c7_1, 7, anyActivation: false);
            if (R > 8) e.Store(c + 8 * ldc, c8_0, c8_1, 8, anyActivation: false);
            if (R > 9) e.Store(c + 9 * ldc, c9_0, c9_1, 9, anyActivation: false);
            if (R > 10) e.Store(c + 10 * ldc, c10_0, c10_1, 10, anyActivation: false);
            if (R > 11) e.Store(c + 11 * ldc, c11_0, c11_1, 11, anyActivation: false);
            return;
        }
        float* tile = stackalloc float[12 * 32];
        { Vector512.Store(c0_0, tile + 0); Vector512.Store(c0_1, tile + 16); }
        if (R > 1) { Vector512.Store(c1_0, tile + 32); Vector512.Store(c1_1, tile + 48); }
        if (R > 2) { Vector512.Store(c2_0, tile + 64); Vector512.Store(c2_1, tile + 80); }
        if (R > 3) { Vector512.Store(c3_0, tile + 96); Vector512.Store(c3_1, tile + 112); }
        if (R > 4) { Vector512.Store(c4_0, tile + 128); Vector512.Store(c4_1, tile + 144); }
        if (R > 5) { Vector512.Store(c5_0, tile + 160); Vector512.Store(c5_1, tile + 176); }
        if (R > 6) { Vector512.Store(c6_0, tile + 192); Vector512.Store(c6_1, tile + 208); }
        if (R > 7) { Vector512.Store(c7_0, tile + 224); Vector512.Store(c7_1, tile + 240); }
        if (R > 8) { Vector512.Store(c8_0, tile + 256); Vector512.Store(c8_1, tile + 272); }
        if (R > 9) { Vector512.Store(c9_0, tile + 288); Vector512.Store(c9_1, tile + 304); }
        if (R > 10) { Vector512.Store(c10_0, tile + 320); Vector512.Store(c10_1, tile + 336); }
        if (R > 11) { Vector512.Store(c11_0, tile + 352); Vector512.Store(c11_1, tile + 368); }
        // Accumulators go to the stack before the epilogue's calls: otherwise the JIT keeps them in memory
        // across the whole k loop (all vector registers are caller-saved), spilling on every FMA.
        TileStore512.Tile(c, ldc, tile, R, cols, row0, col0, t);
    }
}
