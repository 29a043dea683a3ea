namespace FastInfer.Runtime.Operators.Elementwise;

/// <summary>
/// NumPy-style multidirectional broadcasting of N inputs, planned once per shape: the output shape and, for
/// each input, element strides with 0 on broadcast axes. Adjacent axes that broadcast alike are merged so the
/// common cases (same shape, a scalar, a per-channel vector) become one long contiguous inner row.
/// </summary>
internal sealed class Broadcast
{
    public TensorShape Output { get; }
    /// <summary>Merged dims; the last is the inner row.</summary>
    public int[] Dims { get; }
    /// <summary>Strides[input][axis] in elements over the merged dims.</summary>
    public long[][] Strides { get; }
    public long InnerLength => Dims.Length == 0 ? 1 : Dims[^1];
    public long OuterCount { get; }

    public static TensorShape Shape(params TensorShape[] shapes)
    {
        int rank = shapes.Max(s => s.Rank);
        var dims = new int[rank];
        for (int axis = 0; axis < rank; axis++)
        {
            int d = 1;
            foreach (var s in shapes)
            {
                int k = axis - (rank - s.Rank);
                if (k < 0) continue;
                int v = s[k];
                if (v == d || v == 1) continue;
                if (d == 1) { d = v; continue; }
                throw new ArgumentException($"Shapes {string.Join(" and ", shapes.Select(x => x.ToString()))} cannot be broadcast together (axis {axis}: {d} vs {v}).");
            }
            dims[axis] = d;
        }
        return new TensorShape(dims);
    }

    public Broadcast(params TensorShape[] inputs)
    {
        Output = Shape(inputs);
        int rank = Output.Rank;
        // Full-rank strides, 0 where the input has size 1 (or lacks the axis).
        var full = new long[inputs.Length][];
        for (int i = 0; i < inputs.Length; i++)
        {
            full[i] = new long[rank];
            long stride = 1;
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                int k = axis - (rank - inputs[i].Rank);
                int size = k >= 0 ? inputs[i][k] : 1;
                full[i][axis] = size == 1 ? 0 : stride;
                stride *= size;
            }
        }
        // Merge axis a into a+1 when every input is contiguous across the pair (or broadcasts both).
        var dims = new List<int>();
        var strides = Enumerable.Range(0, inputs.Length).Select(_ => new List<long>()).ToArray();
        for (int axis = 0; axis < rank; axis++)
        {
            int d = Output[axis];
            if (d == 1 && rank > 1) continue; // size-1 axes contribute nothing
            if (dims.Count > 0)
            {
                int last = dims.Count - 1;
                bool mergeable = true;
                for (int i = 0; i < inputs.Length && mergeable; i++)
                {
                    long outer = strides[i][last], inner = full[i][axis];
                    mergeable = (outer == 0 && inner == 0) || (outer != 0 && inner != 0 && outer == inner * d);
                }
                if (mergeable)
                {
                    dims[last] *= d;
                    for (int i = 0; i < inputs.Length; i++) strides[i][last] = full[i][axis];
                    continue;
                }
            }
            dims.Add(d);
            for (int i = 0; i < inputs.Length; i++) strides[i].Add(full[i][axis]);
        }
        if (dims.Count == 0) { dims.Add(1); foreach (var s in strides) s.Add(0); }
        Dims = dims.ToArray();
        Strides = strides.Select(s => s.ToArray()).ToArray();
        long outerCount = 1;
        for (int a = 0; a < Dims.Length - 1; a++) outerCount *= Dims[a];
        OuterCount = Output.ElementCount == 0 ? 0 : outerCount;
    }

    /// <summary>Element offset of input <paramref name="input"/> for outer row <paramref name="row"/>.</summary>
    public long Offset(int input, long row)
    {
        long offset = 0;
        long[] s = Strides[input];
        for (int a = Dims.Length - 2; a >= 0; a--)
        {
            long d = Dims[a];
            offset += (row % d) * s[a];
            row /= d;
        }
        return offset;
    }
}
