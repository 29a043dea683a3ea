using Google.Protobuf;
using Pb = global::Onnx;
using DT = global::Onnx.TensorProto.Types.DataType;

namespace FastInfer.Tests.Concurrency;

/// <summary>Small models for the concurrency, validation and soak tests, written with Google's protobuf classes.</summary>
internal static class ConcurrencyModels
{
    /// <summary>x[4, inFeatures] → MatMul(W) → Add(b) → Softmax(axis 1) → y[4, outFeatures]; seeded weights.</summary>
    public static byte[] MatMulSoftmax(int inFeatures, int outFeatures, int seed, int batch = 4)
    {
        var rng = new Random(seed);
        float[] Rand(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        var g = new Pb.GraphProto { Name = "matmul_softmax" };
        g.Input.Add(Value("x", batch, inFeatures));
        g.Output.Add(Value("y", batch, outFeatures));
        g.Initializer.Add(Tensor("w", [inFeatures, outFeatures], Rand(inFeatures * outFeatures)));
        g.Initializer.Add(Tensor("b", [outFeatures], Rand(outFeatures)));
        g.Node.Add(new Pb.NodeProto { Name = "mm", OpType = "MatMul", Input = { "x", "w" }, Output = { "xw" } });
        g.Node.Add(new Pb.NodeProto { Name = "add", OpType = "Add", Input = { "xw", "b" }, Output = { "logits" } });
        var softmax = new Pb.NodeProto { Name = "softmax", OpType = "Softmax", Input = { "logits" }, Output = { "y" } };
        softmax.Attribute.Add(new Pb.AttributeProto { Name = "axis", Type = Pb.AttributeProto.Types.AttributeType.Int, I = 1 });
        g.Node.Add(softmax);
        var m = new Pb.ModelProto { IrVersion = 8, Graph = g, ProducerName = "fastinfer-tests" };
        m.OpsetImport.Add(new Pb.OperatorSetIdProto { Domain = "", Version = 13 });
        return m.ToByteArray();
    }

    private static Pb.ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new Pb.TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new Pb.TensorShapeProto.Types.Dimension { DimValue = d });
        return new Pb.ValueInfoProto { Name = name, Type = new Pb.TypeProto { TensorType = new Pb.TypeProto.Types.Tensor { ElemType = (int)DT.Float, Shape = shape } } };
    }

    private static Pb.TensorProto Tensor(string name, long[] dims, float[] values)
    {
        var t = new Pb.TensorProto { Name = name, DataType = (int)DT.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }
}
