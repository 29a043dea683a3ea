using Google.Protobuf;
using Pb = global::Onnx;

namespace FastInfer.Tests.Support;

/// <summary>
/// The seed's Keras Sequential CNN written as ONNX with Google's protobuf classes:
/// Conv2D(32, 3×3, relu) → MaxPool(2) → Flatten → Dense(128, relu) → Dense(10, softmax), NCHW input.
/// Seeded random weights (Glorot-like scale) so the softmax is not saturated.
/// </summary>
internal static class SeedCnn
{
    public static byte[] Build(int height, int width, int channels, int seed = 1, int filters = 32, int hidden = 128, int classes = 10)
    {
        var rng = new Random(seed);
        float[] Rand(int n, double scale) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale); return a; }
        int oh = height - 2, ow = width - 2, ph = oh / 2, pw = ow / 2;
        int flat = filters * ph * pw;
        var g = new Pb.GraphProto { Name = "seed_cnn" };
        g.Input.Add(Value("input", 1, channels, height, width));
        g.Output.Add(Value("probabilities", 1, classes));
        g.Initializer.Add(Tensor("conv_w", new long[] { filters, channels, 3, 3 }, Rand(filters * channels * 9, Math.Sqrt(2.0 / (channels * 9)))));
        g.Initializer.Add(Tensor("conv_b", new long[] { filters }, Rand(filters, 0.1)));
        g.Initializer.Add(Tensor("dense1_w", new long[] { flat, hidden }, Rand(flat * hidden, Math.Sqrt(2.0 / flat))));
        g.Initializer.Add(Tensor("dense1_b", new long[] { hidden }, Rand(hidden, 0.1)));
        g.Initializer.Add(Tensor("dense2_w", new long[] { hidden, classes }, Rand(hidden * classes, Math.Sqrt(2.0 / hidden))));
        g.Initializer.Add(Tensor("dense2_b", new long[] { classes }, Rand(classes, 0.1)));
        g.Node.Add(Node("Conv", new[] { "input", "conv_w", "conv_b" }, "conv", ("kernel_shape", new long[] { 3, 3 })));
        g.Node.Add(Node("Relu", new[] { "conv" }, "conv_relu"));
        g.Node.Add(Node("MaxPool", new[] { "conv_relu" }, "pool", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })));
        g.Node.Add(Node("Flatten", new[] { "pool" }, "flat"));
        g.Node.Add(Node("Gemm", new[] { "flat", "dense1_w", "dense1_b" }, "dense1"));
        g.Node.Add(Node("Relu", new[] { "dense1" }, "dense1_relu"));
        g.Node.Add(Node("MatMul", new[] { "dense1_relu", "dense2_w" }, "dense2_mm"));
        g.Node.Add(Node("Add", new[] { "dense2_mm", "dense2_b" }, "logits"));
        g.Node.Add(Node("Softmax", new[] { "logits" }, "probabilities", ("axis", 1L)));
        var m = new Pb.ModelProto { IrVersion = 8, Graph = g, ProducerName = "fastinfer-tests" };
        m.OpsetImport.Add(new Pb.OperatorSetIdProto { Domain = "", Version = 13 });
        return m.ToByteArray();
    }

    internal static Pb.ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new Pb.TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new Pb.TensorShapeProto.Types.Dimension { DimValue = d });
        return new Pb.ValueInfoProto
        {
            Name = name,
            Type = new Pb.TypeProto { TensorType = new Pb.TypeProto.Types.Tensor { ElemType = (int)Pb.TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    internal static Pb.TensorProto Tensor(string name, long[] dims, float[] values)
    {
        var t = new Pb.TensorProto { Name = name, DataType = (int)Pb.TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return t;
    }

    internal static Pb.NodeProto Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
    {
        var n = new Pb.NodeProto { OpType = op, Name = output + "_node" };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            var a = new Pb.AttributeProto { Name = name };
            switch (value)
            {
                case long l: a.Type = Pb.AttributeProto.Types.AttributeType.Int; a.I = l; break;
                case float f: a.Type = Pb.AttributeProto.Types.AttributeType.Float; a.F = f; break;
                case long[] ls: a.Type = Pb.AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
                case string s: a.Type = Pb.AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
                default: throw new NotSupportedException(value.GetType().Name);
            }
            n.Attribute.Add(a);
        }
        return n;
    }
}
