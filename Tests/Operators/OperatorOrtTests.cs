using Xunit;
using Pb = global::Onnx;

namespace FastInfer.Tests.Operators;

/// <summary>
/// Each operator added for transformer and image models, as a one-node model on random inputs of odd sizes,
/// against ONNX Runtime (the conformance cases are the main oracle; these add shapes and attributes they lack).
/// </summary>
public class OperatorOrtTests
{
    private static float[] Rand(int seed, params int[] shape) => Support.TensorAssert.RandomFloats(shape.Aggregate(1, (a, b) => a * b), seed, 2f);
    private static float[] Positive(int seed, params int[] shape) => Rand(seed, shape).Select(v => MathF.Abs(v) + 0.1f).ToArray();
    private static NodeInput X(float[] data, params int[] shape) => new("x", data, shape);
    private static NodeInput Init(string name, Array data, params int[] shape) => new(name, data, shape, Initializer: true);
    private static NodeInput Absent => new("", Array.Empty<float>(), Array.Empty<int>());

    public static IEnumerable<object[]> Names() => Cases.Keys.Select(k => new object[] { k });

    private static readonly Dictionary<string, Func<(string Op, int Opset, NodeInput[] Inputs, int Outputs, Action<Pb.NodeProto>? Attributes)>> Cases = new()
    {
        ["LayerNormalization"] = () => ("LayerNormalization", 17, new[] { X(Rand(1, 3, 5, 17), 3, 5, 17), Init("s", Rand(2, 17), 17), Init("b", Rand(3, 17), 17) }, 1, n => n.Float("epsilon", 1e-5f)),
        ["LayerNormalization_axis1"] = () => ("LayerNormalization", 17, new[] { X(Rand(1, 3, 5, 7), 3, 5, 7), Init("s", Rand(2, 35), 5, 7), Init("b", Rand(3, 35), 5, 7) }, 1, n => n.Int("axis", 1)),
        ["Erf"] = () => ("Erf", 13, new[] { X(Rand(4, 65), 65) }, 1, null),
        ["Gelu"] = () => ("Gelu", 20, new[] { X(Rand(5, 3, 63), 3, 63) }, 1, null),
        ["Gelu_tanh"] = () => ("Gelu", 20, new[] { X(Rand(5, 3, 63), 3, 63) }, 1, n => n.String("approximate", "tanh")),
        ["Pow"] = () => ("Pow", 15, new[] { X(Positive(6, 4, 17), 4, 17), Init("p", new[] { 1.5f }, 1) }, 1, null),
        ["Sqrt"] = () => ("Sqrt", 13, new[] { X(Positive(7, 17), 17) }, 1, null),
        ["Exp"] = () => ("Exp", 13, new[] { X(Rand(8, 3, 17), 3, 17) }, 1, null),
        ["Log"] = () => ("Log", 13, new[] { X(Positive(9, 3, 17), 3, 17) }, 1, null),
        ["Neg"] = () => ("Neg", 13, new[] { X(Rand(10, 17), 17) }, 1, null),
        ["Abs"] = () => ("Abs", 13, new[] { X(Rand(11, 17), 17) }, 1, null),
        ["Reciprocal"] = () => ("Reciprocal", 13, new[] { X(Positive(12, 17), 17) }, 1, null),
        ["ReduceMean_axes_input"] = () => ("ReduceMean", 18, new[] { X(Rand(13, 2, 7, 5), 2, 7, 5), Init("a", new long[] { 1 }, 1) }, 1, null),
        ["ReduceSum_two_axes_no_keepdims"] = () => ("ReduceSum", 13, new[] { X(Rand(14, 3, 7, 5), 3, 7, 5), Init("a", new long[] { 0, 2 }, 2) }, 1, n => n.Int("keepdims", 0)),
        ["ReduceMax_attribute"] = () => ("ReduceMax", 13, new[] { X(Rand(15, 3, 7, 5), 3, 7, 5) }, 1, n => n.Ints("axes", -1)),
        ["ReduceMin_all"] = () => ("ReduceMin", 13, new[] { X(Rand(16, 3, 7, 5), 3, 7, 5) }, 1, null),
        ["ReduceProd"] = () => ("ReduceProd", 13, new[] { X(Rand(17, 3, 4, 5), 3, 4, 5) }, 1, n => n.Ints("axes", 1)),
        ["ReduceL2"] = () => ("ReduceL2", 13, new[] { X(Rand(18, 3, 4, 5), 3, 4, 5) }, 1, n => n.Ints("axes", 0, 2)),
        ["Softmax_opset11_coerced"] = () => ("Softmax", 11, new[] { X(Rand(19, 2, 3, 5), 2, 3, 5) }, 1, n => n.Int("axis", 1)),
        ["Softmax_opset13_axis1"] = () => ("Softmax", 13, new[] { X(Rand(20, 2, 3, 5), 2, 3, 5) }, 1, n => n.Int("axis", 1)),
        ["LogSoftmax_opset13"] = () => ("LogSoftmax", 13, new[] { X(Rand(21, 2, 3, 65), 2, 3, 65) }, 1, null),
        ["Slice_steps"] = () => ("Slice", 13, new[] { X(Rand(22, 5, 9, 7), 5, 9, 7), Init("st", new long[] { 1, -1 }, 2), Init("en", new long[] { 9, -10 }, 2), Init("ax", new long[] { 1, 2 }, 2), Init("sp", new long[] { 2, -2 }, 2) }, 1, null),
        ["Split_uneven"] = () => ("Split", 18, new[] { X(Rand(23, 2, 7), 2, 7) }, 3, n => { n.Int("axis", 1); n.Int("num_outputs", 3); }),
        ["Split_sizes"] = () => ("Split", 13, new[] { X(Rand(24, 7, 3), 7, 3), Init("s", new long[] { 2, 5 }, 2) }, 2, null),
        ["Expand"] = () => ("Expand", 13, new[] { X(Rand(25, 3, 1), 3, 1), Init("s", new long[] { 2, 1, 5 }, 3) }, 1, null),
        ["Where"] = () => ("Where", 16, new[] { new NodeInput("c", Enumerable.Range(0, 15).Select(i => i % 3 == 0).ToArray(), new[] { 3, 5 }), X(Rand(26, 3, 5), 3, 5), new NodeInput("z", Rand(27, 5), new[] { 5 }) }, 1, null),
        ["Equal_int64"] = () => ("Equal", 13, new[] { new NodeInput("a", new long[] { 1, 2, 3, 4, 5, 6 }, new[] { 2, 3 }), new NodeInput("b", new long[] { 1, 0, 3 }, new[] { 3 }) }, 1, null),
        ["Less"] = () => ("Less", 13, new[] { X(Rand(28, 3, 5), 3, 5), new NodeInput("z", Rand(29, 5), new[] { 5 }) }, 1, null),
        ["Cast_float_to_int64"] = () => ("Cast", 13, new[] { X(Rand(30, 17).Select(v => v * 10).ToArray(), 17) }, 1, n => n.Int("to", 7)),
        ["Cast_int64_to_float"] = () => ("Cast", 13, new[] { new NodeInput("x", new long[] { -3, 0, 7, 1L << 40 }, new[] { 4 }) }, 1, n => n.Int("to", 1)),
        ["Range"] = () => ("Range", 11, new[] { Init("s", new[] { 1.5f }), Init("l", new[] { 9f }), Init("d", new[] { 0.7f }) }, 1, null),
        ["Tile"] = () => ("Tile", 13, new[] { X(Rand(31, 2, 3), 2, 3), Init("r", new long[] { 3, 2 }, 2) }, 1, null),
        ["Pad_reflect"] = () => ("Pad", 13, new[] { X(Rand(32, 2, 5, 6), 2, 5, 6), Init("p", new long[] { 0, 2, 3, 0, 1, 4 }, 6) }, 1, n => n.String("mode", "reflect")),
        ["Pad_edge"] = () => ("Pad", 13, new[] { X(Rand(33, 2, 5, 6), 2, 5, 6), Init("p", new long[] { 0, 2, 3, 0, 1, 4 }, 6) }, 1, n => n.String("mode", "edge")),
        ["Pad_constant_crop"] = () => ("Pad", 13, new[] { X(Rand(34, 2, 5, 6), 2, 5, 6), Init("p", new long[] { 1, -1, 2, 0, 1, -2 }, 6), Init("v", new[] { 0.5f }) }, 1, null),
        ["Resize_linear_half_pixel"] = () => ("Resize", 13, new[] { X(Rand(35, 1, 2, 5, 7), 1, 2, 5, 7), Absent, Init("sc", new[] { 1f, 1f, 1.7f, 0.6f }, 4) }, 1, n => n.String("mode", "linear")),
        ["Resize_nearest_sizes"] = () => ("Resize", 13, new[] { X(Rand(36, 1, 2, 5, 7), 1, 2, 5, 7), Absent, Absent, Init("sz", new long[] { 1, 2, 9, 4 }, 4) }, 1, n => n.String("mode", "nearest")),
        ["Resize_linear_align_corners"] = () => ("Resize", 13, new[] { X(Rand(37, 1, 1, 4, 6), 1, 1, 4, 6), Absent, Absent, Init("sz", new long[] { 1, 1, 7, 3 }, 4) }, 1, n => { n.String("mode", "linear"); n.String("coordinate_transformation_mode", "align_corners"); }),
        ["ConvTranspose_stride_pad_group"] = () => ("ConvTranspose", 13, new[] { X(Rand(38, 1, 4, 5, 6), 1, 4, 5, 6), Init("w", Rand(39, 4, 3, 3, 3), 4, 3, 3, 3), Init("b", Rand(40, 6), 6) }, 1, n => { n.Ints("strides", 2, 2); n.Ints("pads", 1, 0, 1, 1); n.Int("group", 2); n.Ints("output_padding", 1, 0); }),
        ["ConvTranspose_1d_dilated"] = () => ("ConvTranspose", 13, new[] { X(Rand(41, 2, 3, 7), 2, 3, 7), Init("w", Rand(42, 3, 2, 3), 3, 2, 3) }, 1, n => n.Ints("dilations", 2)),
        ["PRelu"] = () => ("PRelu", 16, new[] { X(Rand(43, 2, 3, 5, 4), 2, 3, 5, 4), Init("s", Rand(44, 3, 1, 1), 3, 1, 1) }, 1, null),
        ["HardSigmoid"] = () => ("HardSigmoid", 6, new[] { X(Rand(45, 33).Select(v => v * 4).ToArray(), 33) }, 1, n => { n.Float("alpha", 0.3f); n.Float("beta", 0.4f); }),
        ["HardSwish"] = () => ("HardSwish", 14, new[] { X(Rand(46, 33).Select(v => v * 4).ToArray(), 33) }, 1, null),
        ["Elu"] = () => ("Elu", 6, new[] { X(Rand(47, 33), 33) }, 1, n => n.Float("alpha", 0.7f)),
        ["Selu"] = () => ("Selu", 6, new[] { X(Rand(48, 33), 33) }, 1, null),
        ["Min"] = () => ("Min", 13, new[] { X(Rand(49, 3, 5), 3, 5), new NodeInput("z", Rand(50, 5), new[] { 5 }), new NodeInput("w", Rand(51, 3, 1), new[] { 3, 1 }) }, 1, null),
        ["Max"] = () => ("Max", 13, new[] { X(Rand(52, 3, 5), 3, 5), new NodeInput("z", Rand(53, 5), new[] { 5 }) }, 1, null),
        ["Sum"] = () => ("Sum", 13, new[] { X(Rand(54, 3, 5), 3, 5), new NodeInput("z", Rand(55, 5), new[] { 5 }), new NodeInput("w", Rand(56, 3, 5), new[] { 3, 5 }) }, 1, null),
        ["Mean"] = () => ("Mean", 13, new[] { X(Rand(57, 3, 5), 3, 5), new NodeInput("z", Rand(58, 3, 5), new[] { 3, 5 }) }, 1, null),
        ["TopK"] = () => ("TopK", 11, new[] { X(Rand(59, 3, 17), 3, 17), Init("k", new long[] { 5 }, 1) }, 2, null),
        ["TopK_smallest_axis0"] = () => ("TopK", 11, new[] { X(Rand(60, 9, 4), 9, 4), Init("k", new long[] { 3 }, 1) }, 2, n => { n.Int("axis", 0); n.Int("largest", 0); }),
        ["ArgMax"] = () => ("ArgMax", 13, new[] { X(Rand(61, 3, 7, 5), 3, 7, 5) }, 1, n => { n.Int("axis", 1); n.Int("keepdims", 0); }),
        ["InstanceNormalization"] = () => ("InstanceNormalization", 6, new[] { X(Rand(62, 2, 3, 5, 7), 2, 3, 5, 7), Init("s", Rand(63, 3), 3), Init("b", Rand(64, 3), 3) }, 1, null),
        ["DepthToSpace_DCR"] = () => ("DepthToSpace", 13, new[] { X(Rand(65, 2, 8, 3, 5), 2, 8, 3, 5) }, 1, n => n.Int("blocksize", 2)),
        ["DepthToSpace_CRD"] = () => ("DepthToSpace", 13, new[] { X(Rand(66, 1, 18, 2, 3), 1, 18, 2, 3) }, 1, n => { n.Int("blocksize", 3); n.String("mode", "CRD"); }),
        ["SpaceToDepth"] = () => ("SpaceToDepth", 13, new[] { X(Rand(67, 1, 3, 4, 6), 1, 3, 4, 6) }, 1, n => n.Int("blocksize", 2)),
        ["Einsum_batch_matmul"] = () => ("Einsum", 12, new[] { X(Rand(68, 2, 3, 5), 2, 3, 5), new NodeInput("z", Rand(69, 2, 5, 4), new[] { 2, 5, 4 }) }, 1, n => n.String("equation", "bij,bjk->bik")),
        ["Einsum_transposed_operand"] = () => ("Einsum", 12, new[] { X(Rand(70, 3, 5), 3, 5), new NodeInput("z", Rand(71, 4, 5), new[] { 4, 5 }) }, 1, n => n.String("equation", "ij,kj->ik")),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Matches_onnx_runtime(string name)
    {
        var (op, opset, inputs, outputs, attributes) = Cases[name]();
        var model = SingleNodeModel.Build(op, opset, inputs, outputs, attributes);
        Assert.Equal(outputs, SingleNodeModel.CompareWithOrt(model, inputs));
    }

    /// <summary>Operators that split large inputs' rows across the pool, at 2 threads (the MiniLM attention shapes).</summary>
    [Theory]
    [InlineData("Transpose")]
    [InlineData("LayerNormalization")]
    [InlineData("Softmax")]
    public void Row_split_operators_match_onnx_runtime_on_two_threads(string op)
    {
        var (opset, inputs, attributes) = op switch
        {
            "Transpose" => (13, new[] { X(Rand(80, 2, 130, 12, 33), 2, 130, 12, 33) }, (Action<Pb.NodeProto>)(n => n.Ints("perm", 0, 2, 1, 3))),
            "LayerNormalization" => (17, new[] { X(Rand(81, 2, 130, 384), 2, 130, 384), Init("s", Rand(82, 384), 384), Init("b", Rand(83, 384), 384) }, n => n.Float("epsilon", 1e-12f)),
            _ => (13, new[] { X(Rand(84, 2, 12, 130, 131), 2, 12, 130, 131) }, (Action<Pb.NodeProto>)(_ => { })),
        };
        var model = SingleNodeModel.Build(op, opset, inputs, 1, attributes);
        Assert.Equal(1, SingleNodeModel.CompareWithOrt(model, inputs, threads: 2));
    }
}

/// <summary>The vectorized GELU (every ISA path and the chunked fallback) against the exact erf-based formula, every length 0..130.</summary>
public class GeluKernelTests
{
    [Fact]
    public void Vectorized_gelu_matches_the_scalar_reference_at_every_length()
    {
        for (int n = 0; n <= 130; n++)
        {
            var x = Support.TensorAssert.RandomFloats(n, n, 6f);
            var expected = x.Select(FastInfer.Runtime.Operators.Elementwise.MathFunctions.Gelu).ToArray();
            var y = new float[n];
            FastInfer.Kernels.Elementwise.GeluKernel.Row(x, y);
            Support.TensorAssert.Close(expected, y, 1e-5, 1e-6, $"Row, length {n}");
            FastInfer.Kernels.Elementwise.GeluKernel.RowChunked(x, y);
            Support.TensorAssert.Close(expected, y, 1e-5, 1e-6, $"RowChunked, length {n}");
            FastInfer.Kernels.Elementwise.GeluKernel.Row(x, x); // in place
            Support.TensorAssert.Close(expected, x, 1e-5, 1e-6, $"in place, length {n}");
        }
    }
}
