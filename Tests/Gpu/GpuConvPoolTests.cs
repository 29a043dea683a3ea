using FastInfer.Kernels.Convolution;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Pooling;
using FastInfer.Tests.Support;
using Xunit;
using static FastInfer.Tests.Gpu.GpuModelRunner;

namespace FastInfer.Tests.Gpu;

/// <summary>
/// Convolution (im2col + tiled GEMM, pointwise GEMM, depthwise) and pooling through the GPU provider, against
/// the scalar references <see cref="ConvReference"/> and <see cref="PoolReference"/> on small odd shapes.
/// </summary>
[Collection(GpuCollection.Name)]
public sealed unsafe class GpuConvPoolTests
{
    [Theory]
    // n, c, h, w, m, kh, kw, stride, pad(t,l,b,r), dilation, group, bias
    [InlineData(2, 3, 9, 11, 5, 3, 3, 2, 1, 0, 2, 1, 1, 1, true)]      // im2col, strided, asymmetric pads
    [InlineData(1, 6, 7, 8, 9, 3, 3, 1, 2, 2, 2, 2, 2, 3, true)]       // grouped, dilated
    [InlineData(2, 5, 7, 3, 4, 1, 1, 1, 0, 0, 0, 0, 1, 1, false)]      // pointwise: GEMM straight on the input
    [InlineData(1, 4, 9, 7, 4, 3, 3, 2, 1, 1, 1, 1, 1, 4, true)]       // depthwise
    [InlineData(1, 3, 1, 17, 4, 1, 5, 1, 0, 2, 0, 2, 1, 1, true)]      // 1-D shaped as H = 1
    public void ConvMatchesReference(int n, int c, int h, int w, int m, int kh, int kw, int stride,
        int pt, int pl, int pb, int pr, int dilation, int group, bool bias)
    {
        var x = Random("x", 1, n, c, h, w);
        var weights = TensorAssert.RandomFloats(m * (c / group) * kh * kw, 2);
        var b = TensorAssert.RandomFloats(m, 3);
        var shape = new ConvShape
        {
            Batch = n, InChannels = c, InHeight = h, InWidth = w, OutChannels = m, KernelHeight = kh, KernelWidth = kw,
            StrideHeight = stride, StrideWidth = stride, DilationHeight = dilation, DilationWidth = dilation,
            PadTop = pt, PadLeft = pl, PadBottom = pb, PadRight = pr, Group = group,
        };
        var expected = new float[n * m * shape.OutHeight * shape.OutWidth];
        fixed (float* px = x.Values, pw = weights, pbias = b, py = expected)
            ConvReference.Run(shape, px, pw, bias ? pbias : null, null, Activation.None, py);

        var inits = new List<(string, int[], float[])> { ("w", new[] { m, c / group, kh, kw }, weights) };
        if (bias) inits.Add(("b", new[] { m }, b));
        var model = Model(13, new[] { x }, inits.ToArray(), new[] { "y" },
            Node("Conv", bias ? new[] { "x", "w", "b" } : new[] { "x", "w" }, "y",
                ("strides", new long[] { stride, stride }), ("pads", new long[] { pt, pl, pb, pr }),
                ("dilations", new long[] { dilation, dilation }), ("group", (long)group)));
        var actual = Run(model, new[] { x }, gpu: true, out var summary);
        TensorAssert.Close(expected, actual, 1e-3, 1e-4, $"conv {n}x{c}x{h}x{w} → {m}, k{kh}x{kw} s{stride} g{group}");
        Assert.Equal(0, summary!.CpuSteps);
    }

    [Fact]
    public void OneDimensionalConvMatchesCpuBackend()
    {
        var x = Random("x", 4, 2, 3, 17);
        var model = Model(13, new[] { x }, new[] { ("w", new[] { 4, 3, 5 }, TensorAssert.RandomFloats(60, 5)) }, new[] { "y" },
            Node("Conv", new[] { "x", "w" }, "y", ("pads", new long[] { 2, 1 }), ("strides", new long[] { 2 })));
        CompareWithCpu(model, new[] { x }, "1-D conv");
    }

    [Fact]
    public void ConvBatchNormResidualReluFusesAndMatchesCpuBackend()
    {
        // The graph passes fold BatchNorm into the filters and fuse Add + Relu: fastinfer:FusedConv with a residual.
        const int c = 3, m = 3;
        var x = Random("x", 6, 2, c, 7, 9);
        var r = Random("r", 7, 2, m, 7, 9);
        var model = Model(13, new[] { x, r },
            new[]
            {
                ("w", new[] { m, c, 3, 3 }, TensorAssert.RandomFloats(m * c * 9, 8)),
                ("scale", new[] { m }, new[] { 1.5f, 0.5f, 2f }), ("bias", new[] { m }, new[] { 0.1f, -0.2f, 0.3f }),
                ("mean", new[] { m }, new[] { 0.05f, -0.1f, 0.2f }), ("var", new[] { m }, new[] { 1.2f, 0.8f, 0.5f }),
            },
            new[] { "y" },
            Node("Conv", new[] { "x", "w" }, "conv", ("pads", new long[] { 1, 1, 1, 1 })),
            Node("BatchNormalization", new[] { "conv", "scale", "bias", "mean", "var" }, "bn"),
            Node("Add", new[] { "bn", "r" }, "sum"),
            Node("Relu", new[] { "sum" }, "y"));
        var summary = CompareWithCpu(model, new[] { x, r }, "Conv+BN+Add+Relu");
        Assert.Contains(summary.Partitions.SelectMany(p => p.Nodes), n => n.StartsWith("FusedConv", StringComparison.Ordinal));
    }

    [Theory]
    // kind: 0 max, 1 average; n·c planes, h, w, k, stride, pad, countIncludePad
    [InlineData(0, 2, 3, 9, 11, 3, 2, 1, false)]
    [InlineData(1, 1, 2, 8, 7, 2, 2, 0, false)]
    [InlineData(1, 2, 3, 7, 9, 3, 2, 1, false)]
    [InlineData(1, 2, 3, 7, 9, 3, 2, 1, true)]
    public void PoolMatchesReference(int kind, int n, int c, int h, int w, int k, int stride, int pad, bool countIncludePad)
    {
        var x = Random("x", 9, n, c, h, w);
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        var shape = new PoolShape
        {
            Planes = n * c, InHeight = h, InWidth = w, OutHeight = oh, OutWidth = ow, KernelHeight = k, KernelWidth = k,
            StrideHeight = stride, StrideWidth = stride, DilationHeight = 1, DilationWidth = 1,
            PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad,
        };
        var expected = new float[n * c * oh * ow];
        fixed (float* px = x.Values, py = expected)
            PoolReference.Run(kind == 0 ? PoolKind.Max : PoolKind.Average, shape, countIncludePad, px, py);
        var attrs = new List<(string, object)> { ("kernel_shape", new long[] { k, k }), ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }) };
        if (kind == 1) attrs.Add(("count_include_pad", countIncludePad ? 1L : 0L));
        var model = Model(13, new[] { x }, Array.Empty<(string, int[], float[])>(), new[] { "y" },
            Node(kind == 0 ? "MaxPool" : "AveragePool", new[] { "x" }, "y", attrs.ToArray()));
        var actual = Run(model, new[] { x }, gpu: true, out var summary);
        TensorAssert.Close(expected, actual, 1e-3, 1e-4, $"pool kind {kind} {h}x{w} k{k} s{stride} p{pad}");
        Assert.Equal(0, summary!.CpuSteps);
    }

    [Theory]
    [InlineData("GlobalAveragePool")]
    [InlineData("GlobalMaxPool")]
    public void GlobalPoolMatchesCpuBackend(string op)
    {
        var x = Random("x", 10, 2, 5, 7, 3);
        var model = Model(13, new[] { x }, Array.Empty<(string, int[], float[])>(), new[] { "y" }, Node(op, new[] { "x" }, "y"));
        CompareWithCpu(model, new[] { x }, op);
    }

    [Fact]
    public void CeilModeMaxPoolMatchesCpuBackend()
    {
        var x = Random("x", 11, 1, 2, 8, 9);
        var model = Model(13, new[] { x }, Array.Empty<(string, int[], float[])>(), new[] { "y" },
            Node("MaxPool", new[] { "x" }, "y", ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1L)));
        CompareWithCpu(model, new[] { x }, "MaxPool ceil_mode");
    }
}
