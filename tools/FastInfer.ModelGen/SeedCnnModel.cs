using FastInfer.Ir;

namespace FastInfer.ModelGen;

/// <summary>
/// The seed article's CNN as a <see cref="ModelGraph"/> (ONNX operators, NCHW input [1, C, H, W]):
/// Conv(32, 3×3) + Relu → MaxPool(2) → Flatten → Gemm(128) + Relu → MatMul(10) + Add → Softmax. At 1000×1000×3 the
/// Dense weight is [7 968 032 × 128]: 1.02 billion parameters, 4.08 GB. Weights are seeded uniform with a He-like
/// scale so the softmax is not saturated.
/// </summary>
public static class SeedCnnModel
{
    public const int Filters = 32, Hidden = 128, Classes = 10;

    /// <summary>Tensors at least this large are streamed through a temporary file instead of memory.</summary>
    public const long TempFileThreshold = 64L << 20;

    /// <summary>Values in the flattened layer for an H×W input.</summary>
    public static long FlatSize(int height, int width) => (long)Filters * ((height - 2) / 2) * ((width - 2) / 2);

    /// <param name="scratchFolder">Where large tensors are staged (deleted when the graph is disposed).</param>
    public static ModelGraph Build(int height, int width, int channels, ulong seed = 1, string? scratchFolder = null)
    {
        if (height < 4 || width < 4 || channels < 1) throw new ArgumentException("the input must be at least 4×4×1");
        long flat = FlatSize(height, width);
        if (flat > int.MaxValue) throw new ArgumentException($"the flattened size {flat} exceeds what one GEMM dimension can hold");
        var g = new ModelGraph { Name = "seed_cnn", IrVersion = 8, ProducerName = "fastinfer-modelgen", SourceFormat = "builder" };
        g.OpsetImports[""] = 13;
        g.Inputs.Add(new ValueInfo("input", DataType.Float, Dims(1, channels, height, width)));
        g.Outputs.Add(new ValueInfo("probabilities", DataType.Float, Dims(1, Classes)));

        ulong stream = seed * 16;
        Add(g, "conv_w", new long[] { Filters, channels, 3, 3 }, stream++, MathF.Sqrt(2f / (channels * 9)), scratchFolder);
        Add(g, "conv_b", new long[] { Filters }, stream++, 0.1f, scratchFolder);
        Add(g, "dense1_w", new long[] { flat, Hidden }, stream++, MathF.Sqrt(2f / flat), scratchFolder);
        Add(g, "dense1_b", new long[] { Hidden }, stream++, 0.1f, scratchFolder);
        Add(g, "dense2_w", new long[] { Hidden, Classes }, stream++, MathF.Sqrt(2f / Hidden), scratchFolder);
        Add(g, "dense2_b", new long[] { Classes }, stream++, 0.1f, scratchFolder);

        g.Nodes.Add(Op("Conv", "conv", new[] { "input", "conv_w", "conv_b" }, NodeAttribute.Of("kernel_shape", new long[] { 3, 3 })));
        g.Nodes.Add(Op("Relu", "conv_relu", new[] { "conv" }));
        g.Nodes.Add(Op("MaxPool", "pool", new[] { "conv_relu" }, NodeAttribute.Of("kernel_shape", new long[] { 2, 2 }), NodeAttribute.Of("strides", new long[] { 2, 2 })));
        g.Nodes.Add(Op("Flatten", "flat", new[] { "pool" }, NodeAttribute.Of("axis", 1L)));
        g.Nodes.Add(Op("Gemm", "dense1", new[] { "flat", "dense1_w", "dense1_b" }));
        g.Nodes.Add(Op("Relu", "dense1_relu", new[] { "dense1" }));
        g.Nodes.Add(Op("MatMul", "dense2_mm", new[] { "dense1_relu", "dense2_w" }));
        g.Nodes.Add(Op("Add", "logits", new[] { "dense2_mm", "dense2_b" }));
        g.Nodes.Add(Op("Softmax", "probabilities", new[] { "logits" }, NodeAttribute.Of("axis", 1L)));
        return g;
    }

    private static Dimension[] Dims(params long[] d) => d.Select(Dimension.Fixed).ToArray();

    private static Node Op(string type, string output, string[] inputs, params NodeAttribute[] attributes)
    {
        var n = new Node { Name = output + "_node", OpType = type, Inputs = inputs.ToList(), Outputs = { output } };
        foreach (var a in attributes) n.SetAttribute(a);
        return n;
    }

    private static void Add(ModelGraph g, string name, long[] dims, ulong seed, float scale, string? scratchFolder)
    {
        long count = dims.Aggregate(1L, (a, b) => a * b);
        long bytes = count * sizeof(float);
        if (bytes >= TempFileThreshold)
        {
            var staged = new TempFileTensor(scratchFolder ?? Path.GetTempPath(), count, seed, scale);
            g.Own(staged);
            g.Initializers[name] = new TensorData(name, DataType.Float, dims, staged.Pointer, bytes);
            return;
        }
        var values = new float[count];
        new SeededWeights(seed).Fill(values, scale);
        g.Initializers[name] = TensorData.Create<float>(g, name, DataType.Float, dims, values);
    }
}
