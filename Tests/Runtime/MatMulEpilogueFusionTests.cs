using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;

namespace FastInfer.Tests.Runtime;

/// <summary>
/// MatMul + bias + residual Add + exact GELU (the Erf export), as a transformer block spells them: the passes fold the
/// residual and the GELU into the MatMul's GEMM epilogue, and the result must still match ONNX Runtime — for a
/// residual shaped like the product (fused) and for one that broadcasts (added after the product).
/// </summary>
public class MatMulEpilogueFusionTests
{
    private const int K = 24, N = 40;

    [Theory]
    [InlineData(new[] { 2, 5, N }, 1, 1)]   // same shape as the product: in the epilogue
    [InlineData(new[] { 2, 5, N }, 1, 2)]
    [InlineData(new[] { N }, 1, 1)]         // broadcasts over the rows: after the product
    [InlineData(new[] { 3, 2, 5, N }, 1, 1)] // a larger output than the product
    [InlineData(new[] { 1, N }, 0, 1)]      // single row (the GEMV path), residual broadcast over nothing
    public void ResidualAndGeluMatchOnnxRuntime(int[] residualShape, int rowsFlag, int threads)
    {
        int[] xShape = rowsFlag == 1 ? new[] { 2, 5, K } : new[] { 1, K };
        byte[] model = Build(xShape, residualShape);
        var x = TensorAssert.RandomFloats(xShape.Aggregate(1, (a, b) => a * b), seed: 3);
        var r = TensorAssert.RandomFloats(residualShape.Aggregate(1, (a, b) => a * b), seed: 4);
        var expected = OrtOracle.Run(model, new[] { ("x", (Array)x, xShape), ("r", (Array)r, residualShape) })["y"];

        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), new SessionOptions { IntraOpThreads = threads });
        var ops = session.Graph.Nodes.Select(n => n.OpType).ToArray();
        Assert.Equal(new[] { "MatMulAdd" }, ops); // Add, Erf, Div, Mul… all folded into one node
        using var tx = Tensor.FromArray(x, xShape);
        using var tr = Tensor.FromArray(r, residualShape);
        var outputs = session.Run(new NamedTensor("x", tx), new NamedTensor("r", tr));
        using var y = outputs[0].Tensor;
        Assert.Equal(expected.Shape, y.Shape.ToArray());
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-4, 1e-5, "y");
    }

    /// <summary>y = gelu((x·W + b) + r) with GELU as 0.5·h·(1 + erf(h/√2)).</summary>
    private static byte[] Build(int[] xShape, int[] residualShape)
    {
        var g = new Pb.GraphProto { Name = "block" };
        g.Input.Add(PbBuild.Value("x", Pb.TensorProto.Types.DataType.Float, xShape.Cast<object?>().ToArray()));
        g.Input.Add(PbBuild.Value("r", Pb.TensorProto.Types.DataType.Float, residualShape.Cast<object?>().ToArray()));
        g.Output.Add(PbBuild.Value("y", Pb.TensorProto.Types.DataType.Float, null));
        g.Initializer.Add(PbBuild.Raw("W", Pb.TensorProto.Types.DataType.Float, new long[] { K, N }, TensorAssert.RandomFloats(K * N, seed: 1, scale: 0.5f)));
        g.Initializer.Add(PbBuild.Raw("b", Pb.TensorProto.Types.DataType.Float, new long[] { N }, TensorAssert.RandomFloats(N, seed: 2)));
        g.Initializer.Add(PbBuild.Raw("sqrt2", Pb.TensorProto.Types.DataType.Float, Array.Empty<long>(), new[] { 1.4142135f }));
        g.Initializer.Add(PbBuild.Raw("one", Pb.TensorProto.Types.DataType.Float, Array.Empty<long>(), new[] { 1f }));
        g.Initializer.Add(PbBuild.Raw("half", Pb.TensorProto.Types.DataType.Float, Array.Empty<long>(), new[] { 0.5f }));
        g.Node.Add(Node("MatMul", new[] { "x", "W" }, "xw"));
        g.Node.Add(Node("Add", new[] { "xw", "b" }, "h0"));
        g.Node.Add(Node("Add", new[] { "h0", "r" }, "h"));
        g.Node.Add(Node("Div", new[] { "h", "sqrt2" }, "hs"));
        g.Node.Add(Node("Erf", new[] { "hs" }, "e"));
        g.Node.Add(Node("Add", new[] { "e", "one" }, "e1"));
        g.Node.Add(Node("Mul", new[] { "h", "e1" }, "he"));
        g.Node.Add(Node("Mul", new[] { "he", "half" }, "y"));
        return PbBuild.Model(g, opset: 13).ToByteArray();
    }

    private static Pb.NodeProto Node(string op, string[] inputs, string output)
    {
        var n = new Pb.NodeProto { OpType = op, Name = output };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }
}
