namespace FastInfer.Runtime;

/// <summary>A concrete tensor shape: non-negative dims, row-major. Immutable; created at plan time, never in Run.</summary>
public sealed class TensorShape : IEquatable<TensorShape>
{
    private readonly int[] _dims;

    public TensorShape(params int[] dims)
    {
        long count = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape [{string.Join(",", dims)}].", nameof(dims));
            count = checked(count * d);
        }
        _dims = (int[])dims.Clone();
        ElementCount = count;
    }

    public static TensorShape Scalar { get; } = new();

    public static TensorShape FromLongs(ReadOnlySpan<long> dims)
    {
        var d = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0 || dims[i] > int.MaxValue) throw new ArgumentException($"Dimension {dims[i]} is out of range.");
            d[i] = (int)dims[i];
        }
        return new TensorShape(d);
    }

    public int Rank => _dims.Length;
    public long ElementCount { get; }
    public int this[int axis] => _dims[axis];
    public int this[Index axis] => _dims[axis];
    public ReadOnlySpan<int> Dims => _dims;
    public int[] ToArray() => (int[])_dims.Clone();
    public long[] ToLongArray() => Array.ConvertAll(_dims, d => (long)d);

    /// <summary>Elements in dims [from, to).</summary>
    public long Size(int from, int to)
    {
        long n = 1;
        for (int i = from; i < to; i++) n *= _dims[i];
        return n;
    }

    /// <summary>Normalizes a possibly negative axis; throws naming the op when out of range.</summary>
    public int Axis(long axis, string what = "axis")
    {
        long a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Math.Max(Rank, 1) || (Rank == 0 && a != 0))
            throw new InvalidModelException($"{what} {axis} is out of range for a rank-{Rank} tensor {this}.");
        return (int)a;
    }

    public bool Equals(TensorShape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override bool Equals(object? obj) => Equals(obj as TensorShape);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(",", _dims) + "]";
}
