using Google.Protobuf;
using FastInfer.Tests.Formats.OnnxTests;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Pb = global::Onnx;
using DT = global::Onnx.TensorProto.Types.DataType;

namespace FastInfer.Tests.Operators;

/// <summary>A value fed to a single-node test model: a graph input (fed at run time) or an initializer.</summary>
internal sealed record NodeInput(string Name, Array Data, int[] Shape, bool Initializer = false);

/// <summary>
/// Builds a one-node ONNX model with Google's protobuf classes, runs it on ONNX Runtime and on FastInfer with the
/// same inputs, and compares every output: float32 within rtol/atol, integers and bools exactly.
/// </summary>
internal static class SingleNodeModel
{
    public static byte[] Build(string opType, int opset, NodeInput[] inputs, int outputs, Action<Pb.NodeProto>? attributes = null, string domain = "")
    {
        var g = new Pb.GraphProto { Name = opType };
        var node = new Pb.NodeProto { OpType = opType, Domain = domain, Name = opType.ToLowerInvariant() };
        foreach (var input in inputs)
        {
            node.Input.Add(input.Name);
            if (input.Name.Length == 0) continue;
            if (input.Initializer) g.Initializer.Add(Tensor(input));
            else g.Input.Add(PbBuild.Value(input.Name, TypeOf(input.Data), input.Shape.Cast<object?>().ToArray()));
        }
        for (int i = 0; i < outputs; i++)
        {
            node.Output.Add("y" + i);
            g.Output.Add(new Pb.ValueInfoProto { Name = "y" + i });
        }
        attributes?.Invoke(node);
        g.Node.Add(node);
        return PbBuild.Model(g, ir: 8, opset: opset).ToByteArray();
    }

    public static void Ints(this Pb.NodeProto n, string name, params long[] values) =>
        n.Attribute.Add(new Pb.AttributeProto { Name = name, Type = Pb.AttributeProto.Types.AttributeType.Ints, Ints = { values } });
    public static void Int(this Pb.NodeProto n, string name, long value) =>
        n.Attribute.Add(new Pb.AttributeProto { Name = name, Type = Pb.AttributeProto.Types.AttributeType.Int, I = value });
    public static void Float(this Pb.NodeProto n, string name, float value) =>
        n.Attribute.Add(new Pb.AttributeProto { Name = name, Type = Pb.AttributeProto.Types.AttributeType.Float, F = value });
    public static void String(this Pb.NodeProto n, string name, string value) =>
        n.Attribute.Add(new Pb.AttributeProto { Name = name, Type = Pb.AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    private static DT TypeOf(Array data) => data switch
    {
        float[] => DT.Float,
        long[] => DT.Int64,
        int[] => DT.Int32,
        bool[] => DT.Bool,
        _ => throw new NotSupportedException(data.GetType().Name),
    };

    private static Pb.TensorProto Tensor(NodeInput input)
    {
        var dims = input.Shape.Select(d => (long)d).ToArray();
        return input.Data switch
        {
            float[] f => PbBuild.Raw(input.Name, DT.Float, dims, f),
            long[] l => PbBuild.Raw(input.Name, DT.Int64, dims, l),
            int[] i => PbBuild.Raw(input.Name, DT.Int32, dims, i),
            bool[] b => PbBuild.Raw(input.Name, DT.Bool, dims, b.Select(v => v ? (byte)1 : (byte)0).ToArray()),
            _ => throw new NotSupportedException(input.Data.GetType().Name),
        };
    }

    private static FastInfer.Runtime.Tensor BoolTensor(bool[] values, int[] shape)
    {
        var t = FastInfer.Runtime.Tensor.Allocate(FastInfer.Ir.DataType.Bool, shape);
        var span = t.AsSpan<byte>();
        for (int i = 0; i < values.Length; i++) span[i] = values[i] ? (byte)1 : (byte)0;
        return t;
    }

    /// <summary>Runs both runtimes and compares; returns the number of outputs compared.</summary>
    public static int CompareWithOrt(byte[] model, NodeInput[] inputs, double rtol = 1e-3, double atol = 1e-4, int threads = 1)
    {
        var feeds = inputs.Where(i => !i.Initializer && i.Name.Length > 0).ToArray();
        using var ortOptions = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 1 };
        using var ort = new Microsoft.ML.OnnxRuntime.InferenceSession(model, ortOptions);
        var values = feeds.Select(f => f.Data switch
        {
            float[] d => NamedOnnxValue.CreateFromTensor(f.Name, new DenseTensor<float>(d, f.Shape)),
            long[] d => NamedOnnxValue.CreateFromTensor(f.Name, new DenseTensor<long>(d, f.Shape)),
            int[] d => NamedOnnxValue.CreateFromTensor(f.Name, new DenseTensor<int>(d, f.Shape)),
            bool[] d => NamedOnnxValue.CreateFromTensor(f.Name, new DenseTensor<bool>(d, f.Shape)),
            _ => throw new NotSupportedException(),
        }).ToList();
        using var expected = ort.Run(values);

        using var session = FastInfer.Runtime.InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), new FastInfer.Runtime.SessionOptions { IntraOpThreads = threads });
        var tensors = feeds.Select(f => new FastInfer.Runtime.NamedTensor(f.Name, f.Data switch
        {
            float[] d => FastInfer.Runtime.Tensor.FromArray(d, f.Shape),
            long[] d => FastInfer.Runtime.Tensor.FromArray(d, f.Shape),
            int[] d => FastInfer.Runtime.Tensor.FromArray(d, f.Shape),
            bool[] d => BoolTensor(d, f.Shape),
            _ => throw new NotSupportedException(),
        })).ToArray();
        var actual = session.Run(tensors);
        try
        {
            int compared = 0;
            foreach (var e in expected)
            {
                var a = actual.Single(x => x.Name == e.Name).Tensor;
                switch (e.Value)
                {
                    case DenseTensor<float> f:
                        Assert.Equal(f.Dimensions.ToArray(), a.Shape.ToArray());
                        Support.TensorAssert.Close(f.ToArray(), a.AsSpan<float>(), rtol, atol, e.Name);
                        break;
                    case DenseTensor<long> l:
                        Assert.Equal(l.Dimensions.ToArray(), a.Shape.ToArray());
                        Assert.Equal(l.ToArray(), a.ToArray<long>());
                        break;
                    case DenseTensor<int> i:
                        Assert.Equal(i.Dimensions.ToArray(), a.Shape.ToArray());
                        Assert.Equal(i.ToArray(), a.ToArray<int>());
                        break;
                    case DenseTensor<bool> b:
                        Assert.Equal(b.Dimensions.ToArray(), a.Shape.ToArray());
                        Assert.Equal(b.ToArray().Select(v => v ? (byte)1 : (byte)0).ToArray(), a.ToArray<byte>());
                        break;
                    default: throw new NotSupportedException(e.Value.GetType().Name);
                }
                compared++;
            }
            return compared;
        }
        finally
        {
            foreach (var r in actual) r.Tensor.Dispose();
            foreach (var t in tensors) t.Tensor.Dispose();
        }
    }
}
