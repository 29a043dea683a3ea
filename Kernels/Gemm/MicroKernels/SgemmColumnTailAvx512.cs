using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Gemm.MicroKernels;

/// <summary>
/// The AVX-512 kernel for an N tail of at most <see cref="MaxCols"/> columns (ResNet's 196-pixel products end in 4,
/// a 98-tile Winograd part in 2): vectors run along the panel's rows instead of along the columns. The 12×16 tile
/// kernel spends one FMA per row and k step whatever the width, 12 for 4 useful columns; here each column takes one
/// FMA per k step on a vector of the panel's rows, 4 for 4 columns. The accumulators are transposed into the usual tile and stored by
/// <see cref="TileStore512.Tile"/>, epilogue included.
/// </summary>
internal static unsafe class SgemmColumnTailAvx512
{
    /// <summary>Widest tail this kernel takes.</summary>
    public const int MaxCols = 8;

    /// <summary>Whether <see cref="SgemmKernel12x32Avx512"/> hands narrow tails here; a switch for the benchmarks' A/B.</summary>
    internal static bool Enabled = true;

    public static void Run(int rows, int cols, float* a, float* b, int kc, float* c, nint ldc, int row0, int col0, TileContext* t)
    {
        switch (cols)
        {
            case 1: Tile<R1>(rows, a, b, kc, c, ldc, row0, col0, t); return;
            case 2: Tile<R2>(rows, a, b, kc, c, ldc, row0, col0, t); return;
            case 3: Tile<R3>(rows, a, b, kc, c, ldc, row0, col0, t); return;
            case 4: Tile<R4>(rows, a, b, kc, c, ldc, row0, col0, t); return;
            case 5: Tile<R5>(rows, a, b, kc, c, ldc, row0, col0, t); return;
            case 6: Tile<R6>(rows, a, b, kc, c, ldc, row0, col0, t); return;
            case 7: Tile<R7>(rows, a, b, kc, c, ldc, row0, col0, t); return;
            default: Tile<R8>(rows, a, b, kc, c, ldc, row0, col0, t); return;
        }
    }

    /// <summary>
    /// Two panels' tails in one pass: twice the independent FMA chains of <see cref="Run"/> (a 2-column tail has only
    /// two per panel, each waiting on the FMA latency), with every element's FMAs still in k order.
    /// </summary>
    public static void RunPair(int rows0, float* a0, float* c0, int row00, int rows1, float* a1, float* c1, int row01,
        int cols, float* b, int kc, nint ldc, int col0, TileContext* t)
    {
        switch (cols)
        {
            case 1: Pair<R1>(rows0, a0, c0, row00, rows1, a1, c1, row01, b, kc, ldc, col0, t); return;
            case 2: Pair<R2>(rows0, a0, c0, row00, rows1, a1, c1, row01, b, kc, ldc, col0, t); return;
            case 3: Pair<R3>(rows0, a0, c0, row00, rows1, a1, c1, row01, b, kc, ldc, col0, t); return;
            default: Pair<R4>(rows0, a0, c0, row00, rows1, a1, c1, row01, b, kc, ldc, col0, t); return;
        }
    }

    /// <summary>Widest tail <see cref="RunPair"/> takes (8 chains).</summary>
    public const int PairMaxCols = 4;

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pair<TCols>(int rows0, float* a0, float* c0, int row00, int rows1, float* a1, float* c1, int row01,
        float* b, int kc, nint ldc, int col0, TileContext* t) where TCols : struct, IRowCount
    {
        int n = TCols.Value;
        nint bStep = t->BStep;
        var zero = Vector512<float>.Zero;
        var mask0 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rows0)).AsSingle();
        var mask1 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rows1)).AsSingle();
        Vector512<float> s0 = zero, s1 = zero, s2 = zero, s3 = zero, u0 = zero, u1 = zero, u2 = zero, u3 = zero;
        for (int p = 0; p < kc; p++)
        {
            var x = Avx512F.MaskLoad(a0, mask0, zero);
            var y = Avx512F.MaskLoad(a1, mask1, zero);
            var w = Vector512.Create(b[0]);
            s0 = Avx512F.FusedMultiplyAdd(x, w, s0); u0 = Avx512F.FusedMultiplyAdd(y, w, u0);
            if (n > 1) { w = Vector512.Create(b[1]); s1 = Avx512F.FusedMultiplyAdd(x, w, s1); u1 = Avx512F.FusedMultiplyAdd(y, w, u1); }
            if (n > 2) { w = Vector512.Create(b[2]); s2 = Avx512F.FusedMultiplyAdd(x, w, s2); u2 = Avx512F.FusedMultiplyAdd(y, w, u2); }
            if (n > 3) { w = Vector512.Create(b[3]); s3 = Avx512F.FusedMultiplyAdd(x, w, s3); u3 = Avx512F.FusedMultiplyAdd(y, w, u3); }
            a0 += rows0;
            a1 += rows1;
            b += bStep;
        }
        float* sums = stackalloc float[16 * 8];
        Vector512.Store(s0, sums); Vector512.Store(u0, sums + 64);
        if (n > 1) { Vector512.Store(s1, sums + 16); Vector512.Store(u1, sums + 80); }
        if (n > 2) { Vector512.Store(s2, sums + 32); Vector512.Store(u2, sums + 96); }
        if (n > 3) { Vector512.Store(s3, sums + 48); Vector512.Store(u3, sums + 112); }
        Store(sums, rows0, n, c0, ldc, row00, col0, t);
        Store(sums + 64, rows1, n, c1, ldc, row01, col0, t);
    }

    /// <summary>Column-major sums (16 floats a column) transposed into the row-major tile the store expects, then stored.</summary>
    private static void Store(float* sums, int rows, int n, float* c, nint ldc, int row0, int col0, TileContext* t)
    {
        float* tile = stackalloc float[12 * 32];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++) tile[r * 32 + j] = sums[j * 16 + r];
        TileStore512.Tile(c, ldc, tile, rows, n, row0, col0, t);
    }

    /// <param name="a">Packed A slice: kc steps of <paramref name="rows"/> floats (at most 12).</param>
    /// <param name="b">B slice: kc steps of at least TCols floats, <see cref="TileContext.BStep"/> apart.</param>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TCols>(int rows, float* a, float* b, int kc, float* c, nint ldc, int row0, int col0, TileContext* t)
        where TCols : struct, IRowCount
    {
        int n = TCols.Value;
        nint bStep = t->BStep;
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rows)).AsSingle();
        var zero = Vector512<float>.Zero;
        // One accumulator per column, FMAs in k order from zero: every element of C sees exactly the sequence of FMAs
        // the tile kernels give it, so a product's result does not depend on which kernel took a column (a part's tail
        // at two threads is a full tile at one). The chains are latency-bound (one FMA per column every 4 cycles),
        // still 2-3× faster than 12 FMAs per k step.
        Vector512<float> s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero, s7 = zero;
        for (int p = 0; p < kc; p++)
        {
            var x = Avx512F.MaskLoad(a, mask, zero);
            s0 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[0]), s0);
            if (n > 1) s1 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[1]), s1);
            if (n > 2) s2 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[2]), s2);
            if (n > 3) s3 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[3]), s3);
            if (n > 4) s4 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[4]), s4);
            if (n > 5) s5 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[5]), s5);
            if (n > 6) s6 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[6]), s6);
            if (n > 7) s7 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(b[7]), s7);
            a += rows;
            b += bStep;
        }
        // Column-major sums, then transposed into the row-major tile (32 floats a row) the store expects.
        float* sums = stackalloc float[16 * 8];
        Vector512.Store(s0, sums);
        if (n > 1) Vector512.Store(s1, sums + 16);
        if (n > 2) Vector512.Store(s2, sums + 32);
        if (n > 3) Vector512.Store(s3, sums + 48);
        if (n > 4) Vector512.Store(s4, sums + 64);
        if (n > 5) Vector512.Store(s5, sums + 80);
        if (n > 6) Vector512.Store(s6, sums + 96);
        if (n > 7) Vector512.Store(s7, sums + 112);
        Store(sums, rows, n, c, ldc, row0, col0, t);
    }
}
