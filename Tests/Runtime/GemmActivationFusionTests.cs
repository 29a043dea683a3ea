using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;

namespace FastInfer.Tests.Runtime;

/// <summary>
/// Gemm followed by Relu, LeakyRelu or Clip (a fully connected layer and its activation): the pass folds the activation
/// into the Gemm's epilogue, which must still match ONNX Runtime — for one row (the GEMV path), several rows (the packed
/// GEMM), and a C that is not a per-column bias (added before the product, the activation after both).
/// </summary>
public class GemmActivationFusionTests
{
    private const int K = 37, N = 45;

    [Theory]
    [InlineData("Relu", 1, false, 1)]
    [InlineData("Relu", 5, false, 2)]
    [InlineData("LeakyRelu", 1, false, 1)]
    [InlineData("LeakyRelu", 5, true, 1)]
    [InlineData("Clip", 5, false, 1)]
    [InlineData("Clip", 1, true, 2)]
    public void FusedActivationMatchesOnnxRuntime(string activation, int rows, bool fullC, int threads)
    {
        byte[] model = Build(activation, rows, fullC);
        var x = TensorAssert.RandomFloats(rows * K, seed: 3);
        var expected = OrtOracle.Run(model, new[] { ("x", (Array)x, new[] { rows, K }) })["y"];

        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), new SessionOptions { IntraOpThreads = threads });
        Assert.Equal(new[] { "Gemm" }, session.Graph.Nodes.Select(n => n.OpType).ToArray()); // the activation is folded in
        using var tx = Tensor.FromArray(x, new[] { rows, K });
        var outputs = session.Run(new NamedTensor("x", tx));
        using var y = outputs[0].Tensor;
        Assert.Equal(expected.Shape, y.Shape.ToArray());
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-4, 1e-5, $"{activation} rows {rows}");
    }

    /// <summary>y = activation(x·W + C), C a per-column bias [N] or a full [rows×N] matrix.</summary>
    private static byte[] Build(string activation, int rows, bool fullC)
    {
        var g = new Pb.GraphProto { Name = "dense" };
        g.Input.Add(PbBuild.Value("x", Pb.TensorProto.Types.DataType.Float, new object?[] { rows, K }));
        g.Output.Add(PbBuild.Value("y", Pb.TensorProto.Types.DataType.Float, null));
        g.Initializer.Add(PbBuild.Raw("W", Pb.TensorProto.Types.DataType.Float, new long[] { K, N }, TensorAssert.RandomFloats(K * N, seed: 1, scale: 0.5f)));
        long[] cShape = fullC ? new long[] { rows, N } : new long[] { N };
        g.Initializer.Add(PbBuild.Raw("C", Pb.TensorProto.Types.DataType.Float, cShape, TensorAssert.RandomFloats((int)cShape.Aggregate(1L, (a, b) => a * b), seed: 2)));
        var gemm = new Pb.NodeProto { OpType = "Gemm", Name = "dense" };
        gemm.Input.AddRange(new[] { "x", "W", "C" });
        gemm.Output.Add("h");
        g.Node.Add(gemm);
        var act = new Pb.NodeProto { OpType = activation, Name = "act" };
        act.Input.Add("h");
        if (activation == "Clip")
        {
            g.Initializer.Add(PbBuild.Raw("lo", Pb.TensorProto.Types.DataType.Float, Array.Empty<long>(), new[] { -0.25f }));
            g.Initializer.Add(PbBuild.Raw("hi", Pb.TensorProto.Types.DataType.Float, Array.Empty<long>(), new[] { 0.5f }));
            act.Input.AddRange(new[] { "lo", "hi" });
        }
        if (activation == "LeakyRelu") act.Attribute.Add(new Pb.AttributeProto { Name = "alpha", Type = Pb.AttributeProto.Types.AttributeType.Float, F = 0.2f });
        act.Output.Add("y");
        g.Node.Add(act);
        return PbBuild.Model(g, opset: 13).ToByteArray();
    }
}
