namespace FastInfer.Formats.Keras;

/// <summary>Load-time weight rearrangements (kernel layout changes, Flatten row permutation).</summary>
internal static class KerasWeightMath
{
    /// <summary>Transposes a dense row-major array: result axis i is source axis <paramref name="perm"/>[i].</summary>
    public static float[] Transpose(float[] data, long[] shape, int[] perm, out long[] newShape)
    {
        int r = shape.Length;
        newShape = new long[r];
        for (int i = 0; i < r; i++) newShape[i] = shape[perm[i]];
        var srcStrides = new long[r];
        long s = 1;
        for (int i = r - 1; i >= 0; i--) { srcStrides[i] = s; s *= shape[i]; }
        var result = new float[data.Length];
        var idx = new long[r];
        for (long o = 0; o < data.LongLength; o++)
        {
            long src = 0;
            for (int i = 0; i < r; i++) src += idx[i] * srcStrides[perm[i]];
            result[o] = data[src];
            for (int i = r - 1; i >= 0; i--)
            {
                if (++idx[i] < newShape[i]) break;
                idx[i] = 0;
            }
        }
        return result;
    }

    /// <summary>
    /// Reorders the rows of a Dense kernel [in, out] whose input was flattened in (spatial..., C) order by Keras but
    /// arrives in (C, spatial...) order: row c·S + s of the result is row s·C + c of the source.
    /// </summary>
    public static float[] PermuteFlattenRows(float[] kernel, long spatial, long channels, long units)
    {
        var result = new float[kernel.Length];
        for (long c = 0; c < channels; c++)
            for (long sp = 0; sp < spatial; sp++)
                Array.Copy(kernel, (sp * channels + c) * units, result, (c * spatial + sp) * units, units);
        return result;
    }
}
