using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// SGEMM micro-kernel, portable 128-bit vectors (SSE/AVX on x64, NEON on ARM64): a 4×16 tile of C in 16
/// accumulators (ARM64 has 32 vector registers; x64 spills a little, but x64 has the wider tiers).
/// </summary>
internal static unsafe class SgemmKernel4x16Vector128
{
    public const int Mr = 4;
    /// <summary>Columns per tile: 4 vectors of 4 floats, read from 16-column packed B panels.</summary>
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
        }
    }

    [SkipLocalsInit]
    private static void Tile<TRows>(float* a, float* b, int kc, float* c, nint ldc, int row0, int col0, int cols, TileContext* t)
        where TRows : struct, IRowCount
    {
        int R = TRows.Value;
        float* tile = stackalloc float[4 * 16];
        Vector128<float> c0_0 = default, c0_1 = default, c0_2 = default, c0_3 = default;
        Vector128<float> c1_0 = default, c1_1 = default, c1_2 = default, c1_3 = default;
        Vector128<float> c2_0 = default, c2_1 = default, c2_2 = default, c2_3 = default;
        Vector128<float> c3_0 = default, c3_1 = default, c3_2 = default, c3_3 = default;
        for (int p = 0; p < kc; p++)
        {
            var bv0 = Vector128.Load(b + 0);
            var bv1 = Vector128.Load(b + 4);
            var bv2 = Vector128.Load(b + 8);
            var bv3 = Vector128.Load(b + 12);
            { var a0 = Vector128.Create(a[0]); c0_0 = Vector128.FusedMultiplyAdd(a0, bv0, c0_0); c0_1 = Vector128.FusedMultiplyAdd(a0, bv1, c0_1); c0_2 = Vector128.FusedMultiplyAdd(a0, bv2, c0_2); c0_3 = Vector128.FusedMultiplyAdd(a0, bv3, c0_3); }
            if (R > 1) { var a1 = Vector128.Create(a[1]); c1_0 = Vector128.FusedMultiplyAdd(a1, bv0, c1_0); c1_1 = Vector128.FusedMultiplyAdd(a1, bv1, c1_1); c1_2 = Vector128.FusedMultiplyAdd(a1, bv2, c1_2); c1_3 = Vector128.FusedMultiplyAdd(a1, bv3, c1_3); }
            if (R > 2) { var a2 = Vector128.Create(a[2]); c2_0 = Vector128.FusedMultiplyAdd(a2, bv0, c2_0); c2_1 = Vector128.FusedMultiplyAdd(a2, bv1, c2_1); c2_2 = Vector128.FusedMultiplyAdd(a2, bv2, c2_2); c2_3 = Vector128.FusedMultiplyAdd(a2, bv3, c2_3); }
            if (R > 3) { var a3 = Vector128.Create(a[3]); c3_0 = Vector128.FusedMultiplyAdd(a3, bv0, c3_0); c3_1 = Vector128.FusedMultiplyAdd(a3, bv1, c3_1); c3_2 = Vector128.FusedMultiplyAdd(a3, bv2, c3_2); c3_3 = Vector128.FusedMultiplyAdd(a3, bv3, c3_3); }
            a += R;
            b += 16;
        }
        { Vector128.Store(c0_0, tile + 0); Vector128.Store(c0_1, tile + 4); Vector128.Store(c0_2, tile + 8); Vector128.Store(c0_3, tile + 12); }
        if (R > 1) { Vector128.Store(c1_0, tile + 16); Vector128.Store(c1_1, tile + 20); Vector128.Store(c1_2, tile + 24); Vector128.Store(c1_3, tile + 28); }
        if (R > 2) { Vector128.Store(c2_0, tile + 32); Vector128.Store(c2_1, tile + 36); Vector128.Store(c2_2, tile + 40); Vector128.Store(c2_3, tile + 44); }
        if (R > 3) { Vector128.Store(c3_0, tile + 48); Vector128.Store(c3_1, tile + 52); Vector128.Store(c3_2, tile + 56); Vector128.Store(c3_3, tile + 60); }
        // Accumulators go to the stack before the epilogue's calls: otherwise the JIT keeps them in memory
        // across the whole k loop (all vector registers are caller-saved), spilling on every FMA.
        for (int r = 0; r < R; r++)
            TileStore128.Row(c + r * ldc, Vector128.Load(tile + r * 16 + 0), Vector128.Load(tile + r * 16 + 4), Vector128.Load(tile + r * 16 + 8), Vector128.Load(tile + r * 16 + 12), row0 + r, col0, cols, t);
    }
}
