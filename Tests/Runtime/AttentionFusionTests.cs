using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Google.Protobuf;
using Xunit;
using Pb = global::Onnx;

namespace FastInfer.Tests.Runtime;

/// <summary>
/// A BERT-style attention block (Reshape → head Transposes → MatMul → scale → mask Add → Softmax → MatMul → Transpose →
/// Reshape), as PyTorch exports it: the pass turns it into one <c>fastinfer:Attention</c> node, and the result must
/// match ONNX Runtime on the unfused graph — for each way exports spell the scale and the mask, at 1 and 2 threads.
/// When an intermediate is read elsewhere (here the probabilities are a graph output), nothing is fused.
/// </summary>
public class AttentionFusionTests
{
    private const int Heads = 3, Dim = 8, Hidden = Heads * Dim;

    public enum Variant { DivScalePaddingMask, MulScaleFullMask, NoScaleNoMask, Opset11Axis3, ProbabilitiesAreAnOutput }

    [Theory]
    [InlineData(Variant.DivScalePaddingMask, 1, 1)]
    [InlineData(Variant.DivScalePaddingMask, 2, 2)]
    [InlineData(Variant.MulScaleFullMask, 2, 1)]
    [InlineData(Variant.MulScaleFullMask, 2, 2)]
    [InlineData(Variant.NoScaleNoMask, 1, 2)]
    [InlineData(Variant.Opset11Axis3, 2, 1)]
    [InlineData(Variant.ProbabilitiesAreAnOutput, 2, 2)]
    public void FusedAttentionMatchesOnnxRuntime(Variant variant, int batch, int threads)
    {
        const int seq = 11;
        byte[] model = Build(variant, batch, seq);
        int[] xShape = { batch, seq, Hidden };
        bool hasMask = variant is not Variant.NoScaleNoMask;
        int[] maskShape = variant == Variant.MulScaleFullMask ? new[] { batch, 1, seq, seq } : new[] { batch, 1, 1, seq };
        var inputs = new List<(string, Array, int[])>
        {
            ("q", TensorAssert.RandomFloats(batch * seq * Hidden, seed: 1, scale: 2f), xShape),
            ("k", TensorAssert.RandomFloats(batch * seq * Hidden, seed: 2, scale: 2f), xShape),
            ("v", TensorAssert.RandomFloats(batch * seq * Hidden, seed: 3), xShape),
        };
        if (hasMask)
        {
            var m = new float[maskShape.Aggregate(1, (a, b) => a * b)];
            var rnd = new Random(4);
            for (int i = 0; i < m.Length; i++) m[i] = rnd.Next(3) == 0 ? -10000f : 0f;
            inputs.Add(("mask", m, maskShape));
        }
        var expected = OrtOracle.Run(model, inputs);

        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), new SessionOptions { IntraOpThreads = threads });
        int attention = session.Graph.Nodes.Count(n => n.OpType == "Attention");
        Assert.Equal(variant == Variant.ProbabilitiesAreAnOutput ? 0 : 1, attention);
        if (attention == 1) Assert.DoesNotContain(session.Graph.Nodes, n => n.OpType is "Softmax" or "Transpose" or "MatMul");

        var tensors = inputs.Select(i => new NamedTensor(i.Item1, Tensor.FromArray((float[])i.Item2, i.Item3))).ToArray();
        try
        {
            var outputs = session.Run(tensors);
            foreach (var o in outputs)
            {
                using var y = o.Tensor;
                Assert.Equal(expected[o.Name].Shape, y.Shape.ToArray());
                TensorAssert.Close(expected[o.Name].Data, y.AsSpan<float>(), 1e-4, 1e-5, $"{variant} {o.Name}");
            }
        }
        finally
        {
            foreach (var t in tensors) t.Tensor.Dispose();
        }
    }

    /// <summary>y = attention(q, k, v) with the heads split and merged by Reshape/Transpose, as a BERT export has it.</summary>
    private static byte[] Build(Variant variant, int batch, int seq)
    {
        const Pb.TensorProto.Types.DataType F = Pb.TensorProto.Types.DataType.Float;
        var g = new Pb.GraphProto { Name = "attention" };
        foreach (string x in new[] { "q", "k", "v" }) g.Input.Add(PbBuild.Value(x, F, batch, seq, Hidden));
        g.Output.Add(PbBuild.Value("y", F, null));
        g.Initializer.Add(PbBuild.Raw("split", Pb.TensorProto.Types.DataType.Int64, new long[] { 4 }, new long[] { 0, 0, Heads, Dim }));
        g.Initializer.Add(PbBuild.Raw("merge", Pb.TensorProto.Types.DataType.Int64, new long[] { 3 }, new long[] { 0, 0, Hidden }));
        foreach (string x in new[] { "q", "k", "v" }) g.Node.Add(Node("Reshape", new[] { x, "split" }, x + "4"));
        g.Node.Add(Transpose("q4", "qt", 0, 2, 1, 3));
        g.Node.Add(Transpose("k4", "kt", 0, 2, 3, 1));
        g.Node.Add(Transpose("v4", "vt", 0, 2, 1, 3));
        g.Node.Add(Node("MatMul", new[] { "qt", "kt" }, "s0"));
        string scores = "s0";
        if (variant is Variant.DivScalePaddingMask or Variant.Opset11Axis3 or Variant.ProbabilitiesAreAnOutput)
        {
            g.Initializer.Add(PbBuild.Raw("c", F, Array.Empty<long>(), new[] { MathF.Sqrt(Dim) }));
            g.Node.Add(Node("Div", new[] { scores, "c" }, "s1"));
            scores = "s1";
        }
        else if (variant == Variant.MulScaleFullMask)
        {
            g.Initializer.Add(PbBuild.Raw("c", F, new long[] { 1 }, new[] { 1 / MathF.Sqrt(Dim) }));
            g.Node.Add(Node("Mul", new[] { "c", scores }, "s1")); // the constant first
            scores = "s1";
        }
        if (variant != Variant.NoScaleNoMask)
        {
            int[] maskShape = variant == Variant.MulScaleFullMask ? new[] { batch, 1, seq, seq } : new[] { batch, 1, 1, seq };
            g.Input.Add(PbBuild.Value("mask", F, maskShape.Cast<object?>().ToArray()));
            g.Node.Add(Node("Add", variant == Variant.MulScaleFullMask ? new[] { "mask", scores } : new[] { scores, "mask" }, "s2"));
            scores = "s2";
        }
        var softmax = Node("Softmax", new[] { scores }, "p");
        if (variant == Variant.Opset11Axis3) softmax.Attribute.Add(new Pb.AttributeProto { Name = "axis", Type = Pb.AttributeProto.Types.AttributeType.Int, I = 3 });
        g.Node.Add(softmax);
        if (variant == Variant.ProbabilitiesAreAnOutput) g.Output.Add(PbBuild.Value("p", F, null));
        g.Node.Add(Node("MatMul", new[] { "p", "vt" }, "o4"));
        g.Node.Add(Transpose("o4", "o", 0, 2, 1, 3));
        g.Node.Add(Node("Reshape", new[] { "o", "merge" }, "y"));
        return PbBuild.Model(g, opset: variant == Variant.Opset11Axis3 ? 11 : 13).ToByteArray();
    }

    private static Pb.NodeProto Transpose(string input, string output, params long[] perm)
    {
        var n = Node("Transpose", new[] { input }, output);
        n.Attribute.Add(new Pb.AttributeProto { Name = "perm", Type = Pb.AttributeProto.Types.AttributeType.Ints, Ints = { perm } });
        return n;
    }

    private static Pb.NodeProto Node(string op, string[] inputs, string output)
    {
        var n = new Pb.NodeProto { OpType = op, Name = output };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }
}
