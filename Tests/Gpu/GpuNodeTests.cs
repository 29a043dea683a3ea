using FastInfer.Tests.Support;
using Xunit;
using static FastInfer.Tests.Gpu.GpuModelRunner;

namespace FastInfer.Tests.Gpu;

/// <summary>
/// Matrix products, element-wise ops with broadcasting, activations, softmax and layout ops through the GPU
/// provider, each against the CPU backend on small odd shapes, and each required to run on the device.
/// </summary>
[Collection(GpuCollection.Name)]
public sealed class GpuNodeTests
{
    private static readonly (string, int[], float[])[] NoInits = Array.Empty<(string, int[], float[])>();

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public void GemmMatchesCpuBackend(bool transB, int cKind)
    {
        const int m = 5, k = 17, n = 9;
        var a = Random("a", 1, m, k);
        var inits = new List<(string, int[], float[])>
        {
            ("b", transB ? new[] { n, k } : new[] { k, n }, TensorAssert.RandomFloats(k * n, 2)),
            ("c", cKind == 1 ? new[] { n } : new[] { m, n }, TensorAssert.RandomFloats(cKind == 1 ? n : m * n, 3)),
        };
        var model = Model(13, new[] { a }, inits.ToArray(), new[] { "y" },
            Node("Gemm", new[] { "a", "b", "c" }, "y", ("transB", transB ? 1L : 0L)));
        CompareWithCpu(model, new[] { a }, $"Gemm transB={transB} c={cKind}");
    }

    [Fact]
    public void MatMulByWeightAndAddBecomesMatMulAdd()
    {
        var a = Random("a", 4, 2, 3, 7);
        var model = Model(13, new[] { a },
            new[] { ("w", new[] { 7, 11 }, TensorAssert.RandomFloats(77, 5)), ("bias", new[] { 11 }, TensorAssert.RandomFloats(11, 6)) },
            new[] { "y" },
            Node("MatMul", new[] { "a", "w" }, "mm"), Node("Add", new[] { "mm", "bias" }, "y"));
        var summary = CompareWithCpu(model, new[] { a }, "MatMul+Add");
        Assert.Contains(summary.Partitions.SelectMany(p => p.Nodes), n => n.StartsWith("MatMulAdd", StringComparison.Ordinal));
    }

    [Fact]
    public void LongSkinnyProductsSplitAlongK()
    {
        // K past the split-K threshold with one or two rows: partial sums per K chunk, then a reduction with the bias.
        var a = Random("a", 22, 1, 9000);
        var model = Model(13, new[] { a },
            new[] { ("w", new[] { 9000, 3 }, TensorAssert.RandomFloats(27000, 23)), ("bias", new[] { 3 }, TensorAssert.RandomFloats(3, 24)) },
            new[] { "y" }, Node("MatMul", new[] { "a", "w" }, "mm"), Node("Add", new[] { "mm", "bias" }, "y"));
        CompareWithCpu(model, new[] { a }, "split-K MatMulAdd");

        var b = Random("b", 25, 2, 8200);
        var gemm = Model(13, new[] { b },
            new[] { ("w", new[] { 5, 8200 }, TensorAssert.RandomFloats(41000, 26)), ("c", new[] { 5 }, TensorAssert.RandomFloats(5, 27)) },
            new[] { "y" }, Node("Gemm", new[] { "b", "w", "c" }, "y", ("transB", 1L)));
        CompareWithCpu(gemm, new[] { b }, "split-K Gemm transB");
    }

    [Fact]
    public void BatchedMatMulMatchesCpuBackend()
    {
        var a = Random("a", 7, 2, 3, 5, 7);
        var b = Random("b", 8, 2, 3, 7, 4);
        var model = Model(13, new[] { a, b }, NoInits, new[] { "y" }, Node("MatMul", new[] { "a", "b" }, "y"));
        CompareWithCpu(model, new[] { a, b }, "batched MatMul");
    }

    [Theory]
    [InlineData("Add", new[] { 2, 3, 4, 5 }, new[] { 3, 1, 5 })]
    [InlineData("Mul", new[] { 2, 1, 5 }, new[] { 1, 4, 1 })]
    [InlineData("Sub", new[] { 17 }, new[] { 3, 17 })]
    [InlineData("Div", new[] { 3, 7 }, new[] { 3, 7 })]
    [InlineData("Add", new[] { 1, 2, 1, 3, 1, 2 }, new[] { 2, 1, 2, 3, 1, 1 })]
    public void BinaryBroadcastMatchesCpuBackend(string op, int[] da, int[] db)
    {
        var a = Random("a", 10, da);
        var b = Random("b", 11, db);
        if (op == "Div") for (int i = 0; i < b.Values.Length; i++) b.Values[i] = b.Values[i] >= 0 ? b.Values[i] + 0.5f : b.Values[i] - 0.5f;
        var model = Model(13, new[] { a, b }, NoInits, new[] { "y" }, Node(op, new[] { "a", "b" }, "y"));
        CompareWithCpu(model, new[] { a, b }, $"{op} [{string.Join(",", da)}]∘[{string.Join(",", db)}]");
    }

    [Fact]
    public void PowByConstantMatchesCpuBackend()
    {
        var a = Random("a", 12, 3, 5);
        var model = Model(13, new[] { a }, new[] { ("two", Array.Empty<int>(), new[] { 2f }) }, new[] { "y" }, Node("Pow", new[] { "a", "two" }, "y"));
        CompareWithCpu(model, new[] { a }, "Pow");
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("LeakyRelu")]
    [InlineData("Exp")]
    [InlineData("Neg")]
    [InlineData("Abs")]
    [InlineData("Erf")]
    [InlineData("Elu")]
    [InlineData("HardSigmoid")]
    [InlineData("Softplus")]
    public void UnaryMatchesCpuBackend(string op)
    {
        var a = Random("a", 13, 3, 7, 5);
        for (int i = 0; i < a.Values.Length; i++) a.Values[i] *= 3;
        var model = Model(13, new[] { a }, NoInits, new[] { "y" }, Node(op, new[] { "a" }, "y"));
        CompareWithCpu(model, new[] { a }, op);
    }

    [Fact]
    public void SqrtLogReciprocalOfPositiveValuesMatchCpuBackend()
    {
        var a = Random("a", 14, 4, 9);
        for (int i = 0; i < a.Values.Length; i++) a.Values[i] = Math.Abs(a.Values[i]) + 0.1f;
        var model = Model(13, new[] { a }, NoInits, new[] { "y" },
            Node("Sqrt", new[] { "a" }, "s"), Node("Log", new[] { "s" }, "l"), Node("Reciprocal", new[] { "a" }, "r"), Node("Add", new[] { "l", "r" }, "y"));
        CompareWithCpu(model, new[] { a }, "Sqrt/Log/Reciprocal");
    }

    [Fact]
    public void ClipWithConstantBoundsMatchesCpuBackend()
    {
        var a = Random("a", 15, 5, 7);
        var model = Model(13, new[] { a }, new[] { ("lo", Array.Empty<int>(), new[] { -0.3f }), ("hi", Array.Empty<int>(), new[] { 0.6f }) },
            new[] { "y" }, Node("Clip", new[] { "a", "lo", "hi" }, "y"));
        CompareWithCpu(model, new[] { a }, "Clip");
    }

    [Theory]
    [InlineData("Softmax", 13, -1, new[] { 3, 17 })]
    [InlineData("Softmax", 13, 1, new[] { 2, 5, 3 })]
    [InlineData("Softmax", 11, 1, new[] { 2, 5, 3 })]
    [InlineData("LogSoftmax", 13, -1, new[] { 4, 9 })]
    public void SoftmaxMatchesCpuBackend(string op, int opset, int axis, int[] dims)
    {
        var a = Random("a", 16, dims);
        var model = Model(opset, new[] { a }, NoInits, new[] { "y" }, Node(op, new[] { "a" }, "y", ("axis", (long)axis)));
        CompareWithCpu(model, new[] { a }, $"{op} opset {opset} axis {axis}");
    }

    [Fact]
    public void TransposeMatchesCpuBackend()
    {
        var a = Random("a", 17, 2, 3, 4, 5);
        var model = Model(13, new[] { a }, NoInits, new[] { "y" }, Node("Transpose", new[] { "a" }, "y", ("perm", new long[] { 0, 2, 3, 1 })));
        CompareWithCpu(model, new[] { a }, "Transpose");
    }

    [Fact]
    public void ConcatMatchesCpuBackend()
    {
        var a = Random("a", 18, 2, 3, 4);
        var b = Random("b", 19, 2, 5, 4);
        var c = Random("c", 20, 2, 1, 4);
        var model = Model(13, new[] { a, b, c }, NoInits, new[] { "y" }, Node("Concat", new[] { "a", "b", "c" }, "y", ("axis", 1L)));
        CompareWithCpu(model, new[] { a, b, c }, "Concat");
    }

    [Fact]
    public void ViewsInsideAndAtTheEndOfTheGraph()
    {
        // Flatten in the middle is a view of the device buffer; Reshape as the graph output is a device copy.
        var a = Random("a", 21, 2, 3, 4);
        var model = Model(13, new[] { a }, new[] { ("shape", new[] { 2 }, Array.Empty<float>()) }.Take(0).ToArray(), new[] { "y" },
            Node("Relu", new[] { "a" }, "r"), Node("Flatten", new[] { "r" }, "f"), Node("Sigmoid", new[] { "f" }, "s"),
            Node("Flatten", new[] { "s" }, "y", ("axis", 2L)));
        CompareWithCpu(model, new[] { a }, "views");
    }
}
