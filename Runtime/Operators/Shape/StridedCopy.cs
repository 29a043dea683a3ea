namespace FastInfer.Runtime.Operators.Shape;

/// <summary>
/// Copies a strided view of a tensor into dense row-major output: the one primitive behind Transpose, Slice,
/// Expand and Tile. Strides are in elements and may be 0 (broadcast) or negative (reversed slices). Axes
/// that are contiguous in both source and destination are merged when the plan is made, so a copy that is
/// dense in its inner axes moves whole rows with one memcpy.
/// </summary>
internal sealed unsafe class StridedCopy
{
    private readonly int[] _dims;
    private readonly long[] _strides;
    private readonly long _start;
    private readonly int _elementSize;
    private readonly long _count;

    /// <param name="dims">Output dims.</param>
    /// <param name="strides">Source stride of each output axis, in elements.</param>
    /// <param name="start">Source offset of the first element, in elements.</param>
    public StridedCopy(int[] dims, long[] strides, long start, int elementSize)
    {
        _elementSize = elementSize;
        _start = start;
        _count = 1;
        foreach (int d in dims) _count *= d;
        // Drop size-1 axes, then merge axis a into a+1 when source stride[a] == stride[a+1]·dims[a+1].
        var md = new List<int>();
        var ms = new List<long>();
        for (int a = 0; a < dims.Length; a++)
        {
            if (dims[a] == 1) continue;
            if (md.Count > 0 && ms[^1] == strides[a] * dims[a]) { md[^1] *= dims[a]; ms[^1] = strides[a]; continue; }
            md.Add(dims[a]); ms.Add(strides[a]);
        }
        if (md.Count == 0) { md.Add(1); ms.Add(1); }
        _dims = md.ToArray();
        _strides = ms.ToArray();
    }

    public void Run(byte* src, byte* dst) => RunRows(src, dst, 0, Rows);

    /// <summary>Output rows (runs of the innermost axis) the copy writes.</summary>
    public long Rows => _count == 0 ? 0 : _count / _dims[^1];

    /// <summary>Copies output rows [<paramref name="first"/>, <paramref name="end"/>) only (for splitting a copy across threads).</summary>
    public void RunRows(byte* src, byte* dst, long first, long end)
    {
        if (_count == 0 || first >= end) return;
        int rank = _dims.Length;
        int inner = _dims[rank - 1];
        long innerStride = _strides[rank - 1];
        int size = _elementSize;
        long rowBytes = (long)inner * size;
        // The odometer's digits and source offset at row `first`.
        Span<int> index = stackalloc int[rank];
        long offset = _start, rest = first;
        for (int a = rank - 2; a >= 0; a--)
        {
            index[a] = (int)(rest % _dims[a]);
            rest /= _dims[a];
            offset += index[a] * _strides[a];
        }
        dst += first * rowBytes;
        for (long row = first; row < end; row++)
        {
            byte* s = src + offset * size;
            if (innerStride == 1) Buffer.MemoryCopy(s, dst, rowBytes, rowBytes);
            else CopyStrided(s, dst, inner, innerStride, size);
            dst += rowBytes;
            // Advance the odometer over the outer axes.
            for (int a = rank - 2; a >= 0; a--)
            {
                offset += _strides[a];
                if (++index[a] < _dims[a]) break;
                offset -= _strides[a] * _dims[a];
                index[a] = 0;
            }
        }
    }

    private static void CopyStrided(byte* s, byte* d, int count, long stride, int size)
    {
        switch (size)
        {
            case 4: { int* si = (int*)s, di = (int*)d; for (int i = 0; i < count; i++) di[i] = si[i * stride]; break; }
            case 8: { long* si = (long*)s, di = (long*)d; for (int i = 0; i < count; i++) di[i] = si[i * stride]; break; }
            case 1: for (int i = 0; i < count; i++) d[i] = s[i * stride]; break;
            default: for (int i = 0; i < count; i++) Buffer.MemoryCopy(s + i * stride * size, d + (long)i * size, size, size); break;
        }
    }

    /// <summary>Row-major strides (in elements) of a dense tensor.</summary>
    public static long[] DenseStrides(ReadOnlySpan<int> dims)
    {
        var s = new long[dims.Length];
        long stride = 1;
        for (int a = dims.Length - 1; a >= 0; a--) { s[a] = stride; stride *= dims[a]; }
        return s;
    }
}
