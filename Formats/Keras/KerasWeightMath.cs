namespace FastInfer.Formats.Keras;

/// <summary>
/// Load-time weight rearrangements (kernel layout changes, Flatten row permutation), done in place in the final
/// buffer by following permutation cycles, so a weight never needs a second full-size buffer (only a bitmap of
/// 1/32 of its size).
/// </summary>
internal static class KerasWeightMath
{
    /// <summary>
    /// Transposes a dense row-major array in place: on return, axis i of <paramref name="data"/> is axis
    /// <paramref name="perm"/>[i] of the array it held (of shape <paramref name="shape"/>).
    /// </summary>
    public static void TransposeInPlace(Span<float> data, long[] shape, int[] perm)
    {
        int r = shape.Length;
        var newShape = new long[r];
        for (int i = 0; i < r; i++) newShape[i] = shape[perm[i]];
        var srcStrides = new long[r];
        long s = 1;
        for (int i = r - 1; i >= 0; i--) { srcStrides[i] = s; s *= shape[i]; }
        if (s != data.Length) throw new ArgumentException("the shape does not match the data");
        // Strides of the source, listed in destination axis order.
        var strideOfDest = new long[r];
        for (int i = 0; i < r; i++) strideOfDest[i] = srcStrides[perm[i]];
        PermuteInPlace(data, 1, o => SourceIndex(o, newShape, strideOfDest));
    }

    private static long SourceIndex(long o, long[] newShape, long[] strideOfDest)
    {
        long src = 0;
        for (int i = newShape.Length - 1; i >= 0; i--)
        {
            long d = newShape[i];
            long idx = o % d;
            o /= d;
            src += idx * strideOfDest[i];
        }
        return src;
    }

    /// <summary>
    /// Reorders, in place, the rows of a Dense kernel [in, out] whose input was flattened in (spatial..., C) order by
    /// Keras but arrives in (C, spatial...) order: row c·S + s of the result is row s·C + c of the source.
    /// </summary>
    public static void PermuteFlattenRowsInPlace(Span<float> kernel, long spatial, long channels, long units)
    {
        if (spatial * channels * units != kernel.Length) throw new ArgumentException("the sizes do not match the kernel");
        PermuteInPlace(kernel, checked((int)units), row => (row % spatial) * channels + row / spatial);
    }

    /// <summary>
    /// Applies a gather permutation in place over blocks of <paramref name="block"/> floats: block o of the result is
    /// block <paramref name="source"/>(o) of the input. Each cycle is followed once, with one block of scratch.
    /// </summary>
    private static void PermuteInPlace(Span<float> data, int block, Func<long, long> source)
    {
        long blocks = data.Length / block;
        var done = new ulong[(blocks + 63) / 64];
        var held = new float[block];
        for (long start = 0; start < blocks; start++)
        {
            if ((done[start >> 6] & (1UL << (int)(start & 63))) != 0) continue;
            long from = source(start);
            if (from == start) { done[start >> 6] |= 1UL << (int)(start & 63); continue; }
            data.Slice((int)(start * block), block).CopyTo(held);
            long j = start;
            while (true)
            {
                done[j >> 6] |= 1UL << (int)(j & 63);
                long k = source(j);
                if (k == start)
                {
                    held.CopyTo(data.Slice((int)(j * block), block));
                    break;
                }
                data.Slice((int)(k * block), block).CopyTo(data.Slice((int)(j * block), block));
                j = k;
            }
        }
    }
}
