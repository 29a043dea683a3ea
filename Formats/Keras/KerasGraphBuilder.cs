using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>Emits ONNX nodes and graph-owned initializers, keeps value names unique, converts layouts once per value.</summary>
internal sealed class KerasGraphBuilder
{
    public ModelGraph Graph { get; }
    public ReaderLimits Limits { get; }
    public string? File { get; }
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, Layout), KTensor> _converted = new();
    private long _totalWeightBytes;

    public KerasGraphBuilder(ModelGraph graph, ReaderLimits limits, string? file)
    {
        Graph = graph; Limits = limits; File = file;
    }

    /// <summary>Reserves a name exactly (graph inputs/outputs) or fails if taken.</summary>
    public string Reserve(string name)
    {
        if (!_names.Add(name)) throw new ModelFormatException($"the name '{name}' is used twice", File, name);
        return name;
    }

    public string Unique(string hint)
    {
        if (_names.Add(hint)) return hint;
        for (int i = 1; ; i++)
        {
            string n = $"{hint}_{i}";
            if (_names.Add(n)) return n;
        }
    }

    /// <summary>Adds a node with one output and returns the output value's name.</summary>
    public string Node(string op, string scope, IReadOnlyList<string> inputs, params NodeAttribute[] attributes)
    {
        string output = Unique($"{scope}/{op}");
        var node = new Node { Name = output, OpType = op, Inputs = inputs.ToList(), Outputs = [output] };
        foreach (var a in attributes) node.SetAttribute(a);
        Graph.Nodes.Add(node);
        if (Graph.Nodes.Count > Limits.MaxNodes)
            throw new ModelFormatException($"the converted graph exceeds the node limit {Limits.MaxNodes} (ReaderLimits.MaxNodes)", File, scope);
        return output;
    }

    public string Const(string name, long[] dims, ReadOnlySpan<float> values)
    {
        long bytes = (long)values.Length * 4;
        Account(name, bytes);
        string n = Unique(name);
        Graph.Initializers[n] = TensorData.Create(Graph, n, DataType.Float, dims, values);
        return n;
    }

    /// <summary>
    /// A float initializer whose native buffer is filled in place by <paramref name="fill"/> (weights are read from the
    /// file straight into it: one copy of each weight, in its final layout).
    /// </summary>
    public string ConstFilled(string name, long[] dims, Action<Memory<float>> fill)
    {
        long count = KerasLayout.Product(dims);
        long bytes = checked(count * 4);
        Account(name, bytes);
        if (count > int.MaxValue)
            throw new ModelFormatException($"tensor '{name}' has {count} elements, over the per-tensor limit of {int.MaxValue}", File, name);
        string n = Unique(name);
        var block = Graph.Allocate(bytes, zero: false);
        using (var memory = new NativeFloatMemory(block.Pointer, (int)count)) fill(memory.Memory);
        Graph.Initializers[n] = new TensorData(n, DataType.Float, dims, block.Pointer, block.ByteLength);
        return n;
    }

    public string ConstI64(string name, long[] values)
    {
        Account(name, (long)values.Length * 8);
        string n = Unique(name);
        Graph.Initializers[n] = TensorData.Create<long>(Graph, n, DataType.Int64, [values.Length], values);
        return n;
    }

    public string Scalar(string name, float value) => Const(name, [], [value]);

    private void Account(string name, long bytes)
    {
        if (bytes > Limits.MaxTensorBytes)
            throw new ModelFormatException($"tensor '{name}' needs {bytes} bytes, over the tensor limit {Limits.MaxTensorBytes} (ReaderLimits.MaxTensorBytes)", File, name);
        _totalWeightBytes += bytes;
        if (_totalWeightBytes > Limits.MaxTotalWeightBytes)
            throw new ModelFormatException($"the weights exceed the total limit {Limits.MaxTotalWeightBytes} bytes (ReaderLimits.MaxTotalWeightBytes)", File, name);
    }

    // ---- layout conversions (memoized per value, so one Transpose serves every consumer) ----

    /// <summary>The tensor in channels-first layout (rank 3+); lower ranks are returned plain.</summary>
    public KTensor ChannelsFirst(KTensor t)
    {
        if (t.Rank < 3) return Plain(t);
        if (t.Layout == Layout.ChannelsFirst) return t;
        var plain = Plain(t);
        if (_converted.TryGetValue((plain.Value, Layout.ChannelsFirst), out var hit)) return hit;
        string v = MoveChannels(plain.Value, plain.Value + "_nchw", t.Shape, KerasLayout.ToFirstPerm(t.Rank));
        var r = plain with { Value = v, Layout = Layout.ChannelsFirst };
        _converted[(plain.Value, Layout.ChannelsFirst)] = r;
        _converted[(v, Layout.Plain)] = plain;
        return r;
    }

    /// <summary>The tensor with physical order equal to its Keras shape.</summary>
    public KTensor Plain(KTensor t)
    {
        if (t.Layout == Layout.Plain) return t;
        if (_converted.TryGetValue((t.Value, Layout.Plain), out var hit)) return hit;
        KTensor r;
        if (t.Layout == Layout.ChannelsFirst)
        {
            string v = MoveChannels(t.Value, t.Value + "_nhwc", KerasLayout.ToChannelsFirst(t.Shape), KerasLayout.ToLastPerm(t.Rank));
            r = t with { Value = v, Layout = Layout.Plain };
        }
        else
        {
            // Flattened in (C, spatial) order: restore the channels-first block, move C last, flatten again.
            var src = t.FlatSource!;
            var cf = KerasLayout.ToChannelsFirst(src);
            var target = new long[cf.Length];
            target[0] = 0;
            for (int i = 1; i < cf.Length; i++) target[i] = cf[i];
            string shape = ConstI64(t.Value + "_unflat_shape", target);
            string u = Node("Reshape", t.Value + "_unflat", [t.Value, shape]);
            string tr = Node("Transpose", t.Value + "_nhwc", [u], NodeAttribute.Of("perm", KerasLayout.ToLastPerm(cf.Length)));
            string f = Node("Flatten", t.Value + "_hwc", [tr], NodeAttribute.Of("axis", 1L));
            r = new KTensor(f, t.Shape, Layout.Plain);
        }
        _converted[(t.Value, Layout.Plain)] = r;
        return r;
    }

    /// <summary>
    /// Transposes <paramref name="value"/> (physical shape <paramref name="shape"/>) by <paramref name="perm"/>. When the
    /// permutation only moves axes of size 1 (one channel, or 1×1 spatial) the data order does not change, so a
    /// Reshape — a view in the runtime, no copy — does the job (e.g. the (N,28,28,1) input of an MNIST CNN).
    /// </summary>
    private string MoveChannels(string value, string scope, long[] shape, long[] perm)
    {
        bool known = shape.Skip(1).All(d => d >= 0);
        var moved = perm.Select(p => shape[p]).ToArray();
        // Same element order iff the axes that are not of size 1 keep their relative order.
        var big = perm.Where(p => shape[p] != 1).ToArray();
        bool orderKept = known && big.SequenceEqual(big.Order());
        if (!orderKept) return Node("Transpose", scope, [value], NodeAttribute.Of("perm", perm));
        string target = ConstI64(scope + "_shape", [0, .. moved.Skip(1)]);
        return Node("Reshape", scope, [value, target]);
    }

    /// <summary>A per-channel (last Keras axis) constant shaped to broadcast against <paramref name="t"/>'s physical layout.</summary>
    public string ChannelConst(string name, KTensor t, float[] values)
    {
        long[] dims = t.Layout == Layout.ChannelsFirst
            ? [values.Length, .. Enumerable.Repeat(1L, t.Rank - 2)]
            : [values.Length];
        return Const(name, dims, values);
    }
}
