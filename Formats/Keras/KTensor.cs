namespace FastInfer.Formats.Keras;

/// <summary>How a value is laid out physically relative to its Keras (channels_last) shape.</summary>
internal enum Layout
{
    /// <summary>Physical order equals the Keras shape (NHWC for images).</summary>
    Plain,
    /// <summary>Physical order is [N, C, spatial...] for Keras shape [N, spatial..., C] (rank 3+).</summary>
    ChannelsFirst,
    /// <summary>
    /// A rank-2 value flattened from a channels-first tensor: physical order (C, spatial...) while Keras' Flatten
    /// order is (spatial..., C). <see cref="KTensor.FlatSource"/> holds the Keras shape before flattening.
    /// </summary>
    FlatChannelsFirst,
}

/// <summary>A Keras tensor during conversion: the graph value holding it, its Keras shape (batch included, -1 unknown) and layout.</summary>
internal sealed record KTensor(string Value, long[] Shape, Layout Layout, long[]? FlatSource = null)
{
    public int Rank => Shape.Length;
    public long Channels => Shape[^1];

    /// <summary>The physical shape of the value (what the graph's ops see).</summary>
    public long[] PhysicalShape => Layout == Layout.ChannelsFirst ? KerasLayout.ToChannelsFirst(Shape) : Shape;

    public string ShapeText => "(" + string.Join(",", Shape.Select(d => d < 0 ? "None" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")";
}

internal static class KerasLayout
{
    /// <summary>Permutation taking channels_last [N, s..., C] to channels_first [N, C, s...].</summary>
    public static long[] ToFirstPerm(int rank)
    {
        var p = new long[rank];
        p[0] = 0; p[1] = rank - 1;
        for (int i = 2; i < rank; i++) p[i] = i - 1;
        return p;
    }

    /// <summary>Permutation taking channels_first [N, C, s...] back to channels_last [N, s..., C].</summary>
    public static long[] ToLastPerm(int rank)
    {
        var p = new long[rank];
        p[0] = 0;
        for (int i = 1; i < rank - 1; i++) p[i] = i + 1;
        p[rank - 1] = 1;
        return p;
    }

    public static long[] ToChannelsFirst(long[] shape)
    {
        var perm = ToFirstPerm(shape.Length);
        return perm.Select(i => shape[i]).ToArray();
    }

    /// <summary>The physical axis of Keras axis <paramref name="kerasAxis"/> (non-negative) under <paramref name="layout"/>.</summary>
    public static int PhysicalAxis(int kerasAxis, int rank, Layout layout)
    {
        if (layout != Layout.ChannelsFirst || kerasAxis == 0) return kerasAxis;
        if (kerasAxis == rank - 1) return 1;
        return kerasAxis + 1;
    }

    public static long Product(IEnumerable<long> dims)
    {
        long p = 1;
        foreach (long d in dims) { if (d < 0) return -1; p = checked(p * d); }
        return p;
    }
}
