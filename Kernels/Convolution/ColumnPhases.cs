using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Convolution;

/// <summary>
/// Splits 64 consecutive floats into their four column phases (x mod 4) and merges them back, with two rounds of
/// AVX-512 two-source permutes (8 per 64 floats) instead of 64 strided scalar moves. Winograd F(4×4, 3×3) works on
/// tiles 4 columns apart, so its transforms read and write rows in this phase-major order.
/// </summary>
internal static unsafe class ColumnPhases
{
    // Permute indices; inlined so each use is a constant load (as properties they were calls, ~1% of a 14×14 layer).
    private static Vector512<int> Even
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    }
    private static Vector512<int> Odd
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    }
    private static Vector512<int> ZipLow
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    }
    private static Vector512<int> ZipHigh
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    }

    /// <summary>dst[p·stride + t] = src[4t + p] for t in [0, 16), p in [0, 4): reads src[0, 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(float* src, float* dst, nint stride)
    {
        var v0 = Vector512.Load(src);
        var v1 = Vector512.Load(src + 16);
        var v2 = Vector512.Load(src + 32);
        var v3 = Vector512.Load(src + 48);
        // Evens and odds of each half, then evens and odds of those: phases 0, 2 and 1, 3.
        var e0 = Avx512F.PermuteVar16x32x2(v0, Even, v1);
        var o0 = Avx512F.PermuteVar16x32x2(v0, Odd, v1);
        var e1 = Avx512F.PermuteVar16x32x2(v2, Even, v3);
        var o1 = Avx512F.PermuteVar16x32x2(v2, Odd, v3);
        Vector512.Store(Avx512F.PermuteVar16x32x2(e0, Even, e1), dst);
        Vector512.Store(Avx512F.PermuteVar16x32x2(o0, Even, o1), dst + stride);
        Vector512.Store(Avx512F.PermuteVar16x32x2(e0, Odd, e1), dst + 2 * stride);
        Vector512.Store(Avx512F.PermuteVar16x32x2(o0, Odd, o1), dst + 3 * stride);
    }

    /// <summary>
    /// The inverse of <see cref="Split"/> for phases p0..p3 (16 lanes each): dst[4t + p] = p_p[t], storing only the
    /// first <paramref name="count"/> (≤ 64) floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Merge(Vector512<float> p0, Vector512<float> p1, Vector512<float> p2, Vector512<float> p3, float* dst, int count)
    {
        var e0 = Avx512F.PermuteVar16x32x2(p0, ZipLow, p2);  // evens of dst[0, 32)
        var e1 = Avx512F.PermuteVar16x32x2(p0, ZipHigh, p2); // evens of dst[32, 64)
        var o0 = Avx512F.PermuteVar16x32x2(p1, ZipLow, p3);
        var o1 = Avx512F.PermuteVar16x32x2(p1, ZipHigh, p3);
        Store(Avx512F.PermuteVar16x32x2(e0, ZipLow, o0), dst, count);
        Store(Avx512F.PermuteVar16x32x2(e0, ZipHigh, o0), dst + 16, count - 16);
        Store(Avx512F.PermuteVar16x32x2(e1, ZipLow, o1), dst + 32, count - 32);
        Store(Avx512F.PermuteVar16x32x2(e1, ZipHigh, o1), dst + 48, count - 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> v, float* dst, int count)
    {
        if (count >= 16) Vector512.Store(v, dst);
        else if (count > 0) Avx512F.MaskStore(dst, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle(), v);
    }
}
