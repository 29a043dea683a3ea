using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// 16×16 float transposes in AVX-512 registers for the packers whose layout is the transpose of the source: A panels
/// from row-major A (12 rows interleaved per depth step) and B panels from a transposed B (Kᵀ in attention, weights
/// stored [N×K]). Element by element those cost about a cycle per float, as much as the products they feed when the
/// depth is small (attention's head dim of 32); this is 64 shuffles per 256 floats. The pixel-rows convolution uses
/// it too, to turn its Yᵀ back into channel rows.
/// </summary>
internal static unsafe class PackTranspose
{
    /// <summary>
    /// <c>dst[t·dstStride + i] = src[i·srcStride + t]</c> for i &lt; <paramref name="rows"/> and t &lt; 16. Each output
    /// vector is stored whole (16 lanes, rows past <paramref name="rows"/> as zeros) except the last, which stores only
    /// its first <paramref name="rows"/> lanes: with dstStride = rows the stores overlap and end exactly at the block's end.
    /// Needs AVX-512F.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block16(float* src, long srcStride, int rows, float* dst, long dstStride)
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> Row(int i) => i < rows ? Vector512.Load(src + i * srcStride) : zero;

        // Stage 1: pairs of rows interleaved within each 128-bit lane.
        var t0 = Avx512F.UnpackLow(Row(0), Row(1)); var t1 = Avx512F.UnpackHigh(Row(0), Row(1));
        var t2 = Avx512F.UnpackLow(Row(2), Row(3)); var t3 = Avx512F.UnpackHigh(Row(2), Row(3));
        var t4 = Avx512F.UnpackLow(Row(4), Row(5)); var t5 = Avx512F.UnpackHigh(Row(4), Row(5));
        var t6 = Avx512F.UnpackLow(Row(6), Row(7)); var t7 = Avx512F.UnpackHigh(Row(6), Row(7));
        var t8 = Avx512F.UnpackLow(Row(8), Row(9)); var t9 = Avx512F.UnpackHigh(Row(8), Row(9));
        var t10 = Avx512F.UnpackLow(Row(10), Row(11)); var t11 = Avx512F.UnpackHigh(Row(10), Row(11));
        var t12 = Avx512F.UnpackLow(Row(12), Row(13)); var t13 = Avx512F.UnpackHigh(Row(12), Row(13));
        var t14 = Avx512F.UnpackLow(Row(14), Row(15)); var t15 = Avx512F.UnpackHigh(Row(14), Row(15));

        // Stage 2: u[4g + c] holds, in 128-bit lane L, rows 4g..4g+3 of column 4L + c.
        var u0 = Avx512F.Shuffle(t0, t2, 0x44); var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        var u2 = Avx512F.Shuffle(t1, t3, 0x44); var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        var u4 = Avx512F.Shuffle(t4, t6, 0x44); var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
        var u6 = Avx512F.Shuffle(t5, t7, 0x44); var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
        var u8 = Avx512F.Shuffle(t8, t10, 0x44); var u9 = Avx512F.Shuffle(t8, t10, 0xEE);
        var u10 = Avx512F.Shuffle(t9, t11, 0x44); var u11 = Avx512F.Shuffle(t9, t11, 0xEE);
        var u12 = Avx512F.Shuffle(t12, t14, 0x44); var u13 = Avx512F.Shuffle(t12, t14, 0xEE);
        var u14 = Avx512F.Shuffle(t13, t15, 0x44); var u15 = Avx512F.Shuffle(t13, t15, 0xEE);

        // Stages 3-4: column 4L + c gathers lane L of u[c], u[4 + c], u[8 + c], u[12 + c].
        var (o0, o4, o8, o12) = Columns(u0, u4, u8, u12);
        var (o1, o5, o9, o13) = Columns(u1, u5, u9, u13);
        var (o2, o6, o10, o14) = Columns(u2, u6, u10, u14);
        var (o3, o7, o11, o15) = Columns(u3, u7, u11, u15);

        // In column order: with dstStride < 16 each store's spare lanes land on the next column's slot before it is stored.
        Vector512.Store(o0, dst); Vector512.Store(o1, dst + dstStride);
        Vector512.Store(o2, dst + 2 * dstStride); Vector512.Store(o3, dst + 3 * dstStride);
        Vector512.Store(o4, dst + 4 * dstStride); Vector512.Store(o5, dst + 5 * dstStride);
        Vector512.Store(o6, dst + 6 * dstStride); Vector512.Store(o7, dst + 7 * dstStride);
        Vector512.Store(o8, dst + 8 * dstStride); Vector512.Store(o9, dst + 9 * dstStride);
        Vector512.Store(o10, dst + 10 * dstStride); Vector512.Store(o11, dst + 11 * dstStride);
        Vector512.Store(o12, dst + 12 * dstStride); Vector512.Store(o13, dst + 13 * dstStride);
        Vector512.Store(o14, dst + 14 * dstStride);
        if (rows == 16) Vector512.Store(o15, dst + 15 * dstStride);
        else Avx512F.MaskStore(dst + 15 * dstStride, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rows)).AsSingle(), o15);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Columns(
        Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        var ab01 = Avx512F.Shuffle4x128(a, b, 0x44); var ab23 = Avx512F.Shuffle4x128(a, b, 0xEE);
        var cd01 = Avx512F.Shuffle4x128(c, d, 0x44); var cd23 = Avx512F.Shuffle4x128(c, d, 0xEE);
        return (Avx512F.Shuffle4x128(ab01, cd01, 0x88), Avx512F.Shuffle4x128(ab01, cd01, 0xDD),
                Avx512F.Shuffle4x128(ab23, cd23, 0x88), Avx512F.Shuffle4x128(ab23, cd23, 0xDD));
    }
}
