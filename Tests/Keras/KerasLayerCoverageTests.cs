using FastInfer.Formats.Keras;
using FastInfer.Tests.Formats.Keras;
using Xunit;
using static FastInfer.Tests.Formats.Keras.SyntheticKerasFiles;
using R = FastInfer.Tests.Formats.Keras.KerasReference;
using T = FastInfer.Tests.Formats.Keras.Tensor;

namespace FastInfer.Tests.Keras;

/// <summary>
/// Every layer of issue 5's list, in Keras-layout files written here (legacy HDF5 and Keras 3 zips via PureHDF's
/// writer), run by FastInfer's runtime and by ONNX Runtime on the OnnxWriter export, both compared with Keras
/// semantics computed directly in NHWC (<see cref="KerasReference"/>).
/// </summary>
public sealed class KerasLayerCoverageTests : IDisposable
{
    private readonly Random _rng = new(2024);
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var f in _files) File.Delete(f);
    }

    private T W(params long[] shape)
    {
        var t = KerasAssert.Random(_rng, shape);
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] *= 0.5f;
        return t;
    }

    private T Positive(params long[] shape) => R.Map(W(shape), v => MathF.Abs(v) + 0.5f);
    private static object[] In(params string[] layers) => [layers.Select(l => new object[] { l, 0, 0, new Dictionary<string, object>() }).ToArray()];
    private static object[] Outs(params string[] layers) => layers.Select(l => (object)new object[] { l, 0, 0 }).ToArray();

    private string Legacy(string config, IReadOnlyList<SynthLayer> layers, string version = "2.3.1", bool keras3Names = false)
    {
        string path = TempPath(".h5");
        _files.Add(path);
        WriteLegacy(path, config, layers, version, keras3Names);
        return path;
    }

    /// <summary>FastInfer must run these models (no pending operator); returns after both engines matched.</summary>
    private static void MustRunInFastInfer(string path, Dictionary<string, T> inputs, Dictionary<string, T> expected, double rtol = 1e-3, double atol = 1e-4) =>
        Assert.True(KerasEngines.CheckFile(path, inputs, expected, rtol, atol), "FastInfer did not run the model");

    [Fact]
    public void ConvFamily_SameOddPaddingDepthwiseSeparableBatchNormPReluPoolsDense()
    {
        var k1 = W(3, 3, 3, 4); var b1 = W(4);
        var dk = W(3, 3, 4, 2); var db = W(8);
        var beta = W(8); var mean = W(8); var variance = Positive(8);
        var alpha = W(1, 1, 8);
        var sdk = W(2, 2, 8, 1); var spk = W(1, 1, 8, 5); var sb = W(5);
        var d1 = W(20, 6); var d1b = W(6); var d2 = W(6, 3); var d2b = W(3);
        SynthLayer[] layers =
        [
            new("c1", "Conv2D", Cfg(("batch_input_shape", new object?[] { null, 7, 6, 3 }), ("filters", 4), ("kernel_size", new[] { 3, 3 }), ("strides", new[] { 2, 2 }),
                ("padding", "same"), ("dilation_rate", new[] { 1, 1 }), ("activation", "relu"), ("use_bias", true), ("data_format", "channels_last")),
                [("kernel", k1), ("bias", b1)]),
            new("dw", "DepthwiseConv2D", Cfg(("kernel_size", new[] { 3, 3 }), ("depth_multiplier", 2), ("padding", "same"), ("strides", new[] { 1, 1 }), ("use_bias", true)),
                [("depthwise_kernel", dk), ("bias", db)]),
            new("bn", "BatchNormalization", Cfg(("axis", -1), ("epsilon", 0.01), ("center", true), ("scale", false)),
                [("beta", beta), ("moving_mean", mean), ("moving_variance", variance)]),
            new("pr", "PReLU", Cfg(("shared_axes", new[] { 1, 2 })), [("alpha", alpha)]),
            new("sep", "SeparableConv2D", Cfg(("filters", 5), ("kernel_size", new[] { 2, 2 }), ("depth_multiplier", 1), ("padding", "same"), ("dilation_rate", new[] { 1, 1 }),
                ("activation", "gelu"), ("use_bias", true)), [("depthwise_kernel", sdk), ("pointwise_kernel", spk), ("bias", sb)]),
            new("mp", "MaxPooling2D", Cfg(("pool_size", new[] { 2, 2 }), ("strides", null), ("padding", "same")), []),
            new("ap", "AveragePooling2D", Cfg(("pool_size", new[] { 2, 2 }), ("strides", new[] { 1, 1 }), ("padding", "same")), []),
            new("fl", "Flatten", Cfg(), []),
            new("drop", "Dropout", Cfg(("rate", 0.5)), []),
            new("d1", "Dense", Cfg(("units", 6), ("activation", "selu"), ("use_bias", true)), [("kernel", d1), ("bias", d1b)]),
            new("d2", "Dense", Cfg(("units", 3), ("activation", "softmax"), ("use_bias", true)), [("kernel", d2), ("bias", d2b)]),
        ];
        string path = Legacy(SequentialConfig(layers), layers);
        var x = KerasAssert.Random(_rng, 2, 7, 6, 3);
        var y = R.Map(R.Conv2D(x, k1, b1.Data, 2, 2, 1, 1, "same"), v => MathF.Max(v, 0)); // 4x3: odd total padding
        y = R.Depthwise(y, dk, db.Data, 1, 1, 1, 1, "same");
        y = R.BatchNorm(y, Enumerable.Repeat(1f, 8).ToArray(), beta.Data, mean.Data, variance.Data, 0.01f);
        y = R.PRelu(y, alpha);
        y = R.Map(R.Conv2D(R.Depthwise(y, sdk, null, 1, 1, 1, 1, "same"), spk, sb.Data, 1, 1, 1, 1, "valid"), R.Gelu);
        y = R.Pool2D(y, 2, 2, 2, 2, "same", max: true);
        y = R.Pool2D(y, 2, 2, 1, 1, "same", max: false);
        y = R.Map(R.Dense(R.Flatten(y), d1, d1b.Data), R.Selu);
        y = R.Softmax(R.Dense(y, d2, d2b.Data));
        MustRunInFastInfer(path, new() { ["c1_input"] = x }, new() { ["d2"] = y });
    }

    [Fact]
    public void Conv2D_GroupsDilationStridesNoBias_EvenKernelSame_GlobalPools()
    {
        var k1 = W(3, 3, 2, 6); var k2 = W(2, 2, 6, 4); var b2 = W(4); var k3 = W(3, 3, 4, 4); var b3 = W(4);
        SynthLayer[] layers =
        [
            new("inp", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 11, 10, 4 }))),
            new("g", "Conv2D", Cfg(("filters", 6), ("kernel_size", new[] { 3, 3 }), ("strides", new[] { 2, 1 }), ("dilation_rate", new[] { 1, 1 }), ("groups", 2),
                ("padding", "valid"), ("use_bias", false), ("activation", "tanh")), [("kernel", k1)], In("inp")),
            new("even", "Conv2D", Cfg(("filters", 4), ("kernel_size", new[] { 2, 2 }), ("padding", "same"), ("activation", "relu6")), [("kernel", k2), ("bias", b2)], In("g")),
            new("dil", "Conv2D", Cfg(("filters", 4), ("kernel_size", new[] { 3, 3 }), ("dilation_rate", new[] { 2, 2 }), ("padding", "same"), ("activation", "linear")),
                [("kernel", k3), ("bias", b3)], In("even")),
            new("gap", "GlobalAveragePooling2D", Cfg(), [], In("dil")),
            new("gmp", "GlobalMaxPooling2D", Cfg(("keepdims", true)), [], In("dil")),
        ];
        string path = Legacy(FunctionalConfig(layers, Outs("inp"), Outs("gap", "gmp")), layers);
        var x = KerasAssert.Random(_rng, 2, 11, 10, 4);
        var y = R.Map(R.Conv2D(x, k1, null, 2, 1, 1, 1, "valid", groups: 2), MathF.Tanh);
        y = R.Map(R.Conv2D(y, k2, b2.Data, 1, 1, 1, 1, "same"), R.Relu6); // even kernel: the extra row/column goes bottom/right
        y = R.Conv2D(y, k3, b3.Data, 1, 1, 2, 2, "same");
        var gmp = R.GlobalPool(y, max: true);
        MustRunInFastInfer(path, new() { ["inp"] = x }, new() { ["gap"] = R.GlobalPool(y, max: false), ["gmp"] = new T([2, 1, 1, 4], gmp.Data) });
    }

    [Fact]
    public void Conv1D_ValidSameCausal_Pools1D_FlattenDense()
    {
        var k1 = W(3, 2, 4); var b1 = W(4); var k2 = W(2, 4, 3); var b2 = W(3); var k3 = W(3, 3, 3); var b3 = W(3);
        var kd = W(6, 2); var bd = W(2);
        SynthLayer[] layers =
        [
            new("c1", "Conv1D", Cfg(("batch_input_shape", new object?[] { null, 13, 2 }), ("filters", 4), ("kernel_size", new[] { 3 }), ("strides", new[] { 1 }), ("padding", "valid"),
                ("activation", "sigmoid")), [("kernel", k1), ("bias", b1)]),
            new("c2", "Conv1D", Cfg(("filters", 3), ("kernel_size", 2), ("strides", 2), ("padding", "same"), ("activation", "linear")), [("kernel", k2), ("bias", b2)]),
            new("c3", "Conv1D", Cfg(("filters", 3), ("kernel_size", 3), ("dilation_rate", 2), ("padding", "causal"), ("activation", "relu")), [("kernel", k3), ("bias", b3)]),
            new("mp", "MaxPooling1D", Cfg(("pool_size", 2), ("padding", "same"))),
            new("ap", "AveragePooling1D", Cfg(("pool_size", 2), ("strides", 1), ("padding", "valid"))),
            new("fl", "Flatten", Cfg()),
            new("d", "Dense", Cfg(("units", 2), ("activation", "linear")), [("kernel", kd), ("bias", bd)]),
        ];
        string path = Legacy(SequentialConfig(layers), layers);
        var x = KerasAssert.Random(_rng, 2, 13, 2);
        static T As2D(T t) => new([t.Shape[0], 1, t.Shape[1], t.Shape[2]], t.Data);
        static T K2D(T k) => new([1, k.Shape[0], k.Shape[1], k.Shape[2]], k.Data);
        var y = R.Map(R.Conv2D(As2D(x), K2D(k1), b1.Data, 1, 1, 1, 1, "valid"), R.Sigmoid);         // 11
        y = R.Conv2D(y, K2D(k2), b2.Data, 1, 2, 1, 1, "same");                                         // 6
        y = R.Map(R.Conv2D(R.ZeroPad2D(y, 0, 0, 4, 0), K2D(k3), b3.Data, 1, 1, 1, 2, "valid"), v => MathF.Max(v, 0)); // causal: 6
        y = R.Pool2D(y, 1, 2, 1, 2, "same", max: true);                                                // 3
        y = R.Pool2D(y, 1, 2, 1, 1, "valid", max: false);                                              // 2
        y = R.Dense(R.Flatten(y), kd, bd.Data);
        MustRunInFastInfer(path, new() { ["c1_input"] = x }, new() { ["d"] = y });
    }

    /// <summary>Every activation string Keras ships, applied by Activation layers after a Dense and after a Conv2D.</summary>
    [Theory]
    [InlineData("2.3.1")]
    [InlineData("3.3.3")]
    public void EveryActivationString(string version)
    {
        string[] names = ["relu", "relu6", "sigmoid", "tanh", "elu", "selu", "gelu", "swish", "silu", "hard_sigmoid", "hard_silu", "leaky_relu",
            "linear", "softplus", "softsign", "exponential", "mish", "softmax", "log_softmax"];
        var kc = W(1, 1, 2, 3); var bc = W(3);
        foreach (string act in names)
        {
            SynthLayer[] layers =
            [
                new("inp", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 2, 3, 2 }))),
                new("conv", "Conv2D", Cfg(("filters", 3), ("kernel_size", new[] { 1, 1 }), ("padding", "valid"), ("activation", act)), [("kernel", kc), ("bias", bc)], In("inp")),
                new("act", "Activation", Cfg(("activation", act)), [], In("conv")),
            ];
            string path = Legacy(FunctionalConfig(layers, Outs("inp"), Outs("conv", "act")), layers, version, keras3Names: version.StartsWith('3'));
            var x = KerasAssert.Random(_rng, 2, 2, 3, 2);
            for (int i = 0; i < x.Data.Length; i++) x.Data[i] *= 4; // reach the clipped ranges of relu6 / hard_sigmoid
            var conv = ApplyActivation(act, R.Conv2D(x, kc, bc.Data, 1, 1, 1, 1, "valid"), version);
            var y = ApplyActivation(act, conv, version);
            MustRunInFastInfer(path, new() { ["inp"] = x }, new() { ["conv"] = conv, ["act"] = y });
        }
    }

    private static T ApplyActivation(string name, T x, string version) => name switch
    {
        "relu" => R.Map(x, v => MathF.Max(v, 0)),
        "relu6" => R.Map(x, R.Relu6),
        "sigmoid" => R.Map(x, R.Sigmoid),
        "tanh" => R.Map(x, MathF.Tanh),
        "elu" => R.Map(x, v => R.Elu(v)),
        "selu" => R.Map(x, R.Selu),
        "gelu" => R.Map(x, R.Gelu),
        "swish" or "silu" => R.Map(x, R.Swish),
        "hard_sigmoid" => R.Map(x, version.StartsWith('3') ? R.HardSigmoidK3 : R.HardSigmoidK2),
        "hard_silu" => R.Map(x, v => v * R.HardSigmoidK3(v)),
        "leaky_relu" => R.Map(x, v => v >= 0 ? v : 0.2f * v),
        "linear" => x,
        "softplus" => R.Map(x, R.Softplus),
        "softsign" => R.Map(x, R.Softsign),
        "exponential" => R.Map(x, MathF.Exp),
        "mish" => R.Map(x, R.Mish),
        "softmax" => R.Softmax(x),
        "log_softmax" => R.Map(R.Softmax(x), MathF.Log),
        _ => throw new ArgumentException(name),
    };

    [Fact]
    public void ActivationLayers_ReluLeakyPReluEluSoftmax_OnChannelsFirstValues()
    {
        var kc = W(1, 1, 3, 4); var bc = W(4);
        var alpha = W(3, 2, 4);
        SynthLayer[] layers =
        [
            new("inp", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 3, 2, 3 }))),
            new("conv", "Conv2D", Cfg(("filters", 4), ("kernel_size", new[] { 1, 1 })), [("kernel", kc), ("bias", bc)], In("inp")),
            new("relu", "ReLU", Cfg(("max_value", 0.6), ("negative_slope", 0.1), ("threshold", 0.0)), [], In("conv")),
            new("leaky2", "LeakyReLU", Cfg(("alpha", 0.25)), [], In("conv")),
            new("leaky3", "LeakyReLU", Cfg(("negative_slope", 0.05)), [], In("conv")),
            new("prelu", "PReLU", Cfg(), [("alpha", alpha)], In("conv")),
            new("elu", "ELU", Cfg(("alpha", 0.7)), [], In("conv")),
            new("sm_last", "Softmax", Cfg(("axis", -1)), [], In("conv")),
            new("sm_h", "Softmax", Cfg(("axis", 1)), [], In("conv")),
        ];
        string path = Legacy(FunctionalConfig(layers, Outs("inp"), Outs("relu", "leaky2", "leaky3", "prelu", "elu", "sm_last", "sm_h")), layers);
        var x = KerasAssert.Random(_rng, 2, 3, 2, 3);
        var c = R.Conv2D(x, kc, bc.Data, 1, 1, 1, 1, "valid");
        MustRunInFastInfer(path, new() { ["inp"] = x }, new()
        {
            ["relu"] = R.Map(c, v => MathF.Min(v >= 0 ? v : 0.1f * v, 0.6f)),
            ["leaky2"] = R.Map(c, v => v >= 0 ? v : 0.25f * v),
            ["leaky3"] = R.Map(c, v => v >= 0 ? v : 0.05f * v),
            ["prelu"] = R.PRelu(c, alpha),
            ["elu"] = R.Map(c, v => R.Elu(v, 0.7f)),
            ["sm_last"] = R.Softmax(c),
            ["sm_h"] = R.Permute(R.Softmax(R.Permute(c, 2, 3, 1)), 3, 1, 2),
        });
    }

    [Fact]
    public void Merges_TwoInputs_SharedConvAndDense_SeveralOutputs()
    {
        var kc = W(3, 3, 2, 3); var bc = W(3); var kd = W(6, 2); var bd = W(2);
        SynthLayer[] layers =
        [
            new("a", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 5, 4, 2 }))),
            new("b", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 5, 4, 2 }))),
            // One Conv2D applied to both inputs: one set of weights, two calls.
            new("shared_conv", "Conv2D", Cfg(("filters", 3), ("kernel_size", new[] { 3, 3 }), ("padding", "same"), ("activation", "relu")),
                [("kernel", kc), ("bias", bc)], new object[] { In("a")[0], In("b")[0] }),
            new("add", "Add", Cfg(), [], new object[] { new object[] { new object[] { "shared_conv", 0, 0, new Dictionary<string, object>() }, new object[] { "shared_conv", 1, 0, new Dictionary<string, object>() } } }),
            new("sub", "Subtract", Cfg(), [], new object[] { new object[] { new object[] { "shared_conv", 0, 0, new Dictionary<string, object>() }, new object[] { "shared_conv", 1, 0, new Dictionary<string, object>() } } }),
            new("mul", "Multiply", Cfg(), [], In("add", "sub")),
            new("avg", "Average", Cfg(), [], In("add", "sub", "mul")),
            new("max", "Maximum", Cfg(), [], In("add", "mul")),
            new("min", "Minimum", Cfg(), [], In("sub", "mul")),
            new("cat_c", "Concatenate", Cfg(("axis", -1)), [], In("max", "min")),
            new("cat_h", "Concatenate", Cfg(("axis", 1)), [], In("avg", "add")),
            new("gap", "GlobalAveragePooling2D", Cfg(), [], In("cat_c")),
            new("shared_dense", "Dense", Cfg(("units", 2), ("activation", "tanh")), [("kernel", kd), ("bias", bd)],
                new object[] { In("gap")[0] }),
        ];
        string path = Legacy(FunctionalConfig(layers, Outs("a", "b"), Outs("shared_dense", "cat_h", "cat_c")), layers);
        using (var g = KerasReader.Load(path))
        {
            Assert.Single(g.Initializers.Keys, k => k.StartsWith("shared_conv/kernel", StringComparison.Ordinal));
            Assert.Equal(2, g.Nodes.Count(n => n.OpType == "Conv"));
        }
        var a = KerasAssert.Random(_rng, 2, 5, 4, 2);
        var b = KerasAssert.Random(_rng, 2, 5, 4, 2);
        var ca = R.Map(R.Conv2D(a, kc, bc.Data, 1, 1, 1, 1, "same"), v => MathF.Max(v, 0));
        var cb = R.Map(R.Conv2D(b, kc, bc.Data, 1, 1, 1, 1, "same"), v => MathF.Max(v, 0));
        var add = R.Zip(ca, cb, (p, q) => p + q);
        var sub = R.Zip(ca, cb, (p, q) => p - q);
        var mul = R.Zip(add, sub, (p, q) => p * q);
        var avg = R.Map(R.Zip(R.Zip(add, sub, (p, q) => p + q), mul, (p, q) => p + q), v => v / 3);
        var catC = R.Concat(R.Zip(add, mul, MathF.Max), R.Zip(sub, mul, MathF.Min));
        var catH = new T([2, 10, 4, 3], [.. Rows(avg, 0), .. Rows(add, 0), .. Rows(avg, 1), .. Rows(add, 1)]);
        var dense = R.Map(R.Dense(R.GlobalPool(catC, max: false), kd, bd.Data), MathF.Tanh);
        MustRunInFastInfer(path, new() { ["a"] = a, ["b"] = b }, new() { ["shared_dense"] = dense, ["cat_h"] = catH, ["cat_c"] = catC });

        // Batch item n of t, flattened.
        static float[] Rows(T t, int n) => t.Data.AsSpan((int)(n * t.Data.Length / t.Shape[0]), (int)(t.Data.Length / t.Shape[0])).ToArray();
    }

    [Fact]
    public void ShapeAndPreprocessingLayers_ReshapePermuteRescalingNormalizationBatchNormDense3D()
    {
        var kc = W(1, 1, 3, 4); var bc = W(4);
        var g = W(4); var beta = W(4); var mean = W(4); var variance = Positive(4);
        var kd = W(4, 5); var bd = W(5);
        float[] nMean = [0.1f, -0.2f, 0.3f, 0f], nVar = [1f, 2f, 0.5f, 1.5f];
        SynthLayer[] layers =
        [
            new("inp", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 3, 4, 3 }))),
            new("resc", "Rescaling", Cfg(("scale", 1.0 / 255), ("offset", -0.5)), [], In("inp")),
            new("conv", "Conv2D", Cfg(("filters", 4), ("kernel_size", new[] { 1, 1 })), [("kernel", kc), ("bias", bc)], In("resc")),
            new("bn", "BatchNormalization", Cfg(("axis", 3), ("epsilon", 0.001)), [("gamma", g), ("beta", beta), ("moving_mean", mean), ("moving_variance", variance)], In("conv")),
            new("norm", "Normalization", Cfg(("axis", -1), ("mean", nMean), ("variance", nVar)), [], In("bn")),
            new("resc_c", "Rescaling", Cfg(("scale", new[] { 1.0, 2.0, 0.5, -1.0 }), ("offset", 0.25)), [], In("norm")),
            new("perm", "Permute", Cfg(("dims", new[] { 2, 1, 3 })), [], In("resc_c")),
            new("rs", "Reshape", Cfg(("target_shape", new[] { 6, -1 })), [], In("perm")),
            new("rs3", "Reshape", Cfg(("target_shape", new[] { 12, 4 })), [], In("rs")),
            new("d3", "Dense", Cfg(("units", 5), ("activation", "relu")), [("kernel", kd), ("bias", bd)], In("rs3")),
        ];
        string path = Legacy(FunctionalConfig(layers, Outs("inp"), Outs("d3", "rs")), layers);
        var x = R.Map(KerasAssert.Random(_rng, 2, 3, 4, 3), v => (v + 1) * 127.5f);
        var y = R.Map(x, v => v / 255f - 0.5f);
        y = R.Conv2D(y, kc, bc.Data, 1, 1, 1, 1, "valid");
        y = R.BatchNorm(y, g.Data, beta.Data, mean.Data, variance.Data, 1e-3f);
        y = R.PerChannel(y, (v, c) => (v - nMean[c]) / MathF.Sqrt(nVar[c]));
        float[] sc = [1f, 2f, 0.5f, -1f];
        y = R.PerChannel(y, (v, c) => v * sc[c] + 0.25f);
        var rs = R.Reshape(R.Permute(y, 2, 1, 3), 6, 8);
        var d3 = R.Map(R.Dense(R.Reshape(rs, 12, 4), kd, bd.Data), v => MathF.Max(v, 0));
        MustRunInFastInfer(path, new() { ["inp"] = x }, new() { ["d3"] = d3, ["rs"] = rs });
    }

    [Fact]
    public void ZeroPaddingUpSamplingLayerNormalization_MatchReference()
    {
        var kc = W(3, 3, 2, 3); var bc = W(3);
        var gamma = W(3); var lnb = W(3);
        SynthLayer[] layers =
        [
            new("zp", "ZeroPadding2D", Cfg(("batch_input_shape", new object?[] { null, 4, 3, 2 }), ("padding", new[] { new[] { 1, 2 }, new[] { 0, 1 } }))),
            new("conv", "Conv2D", Cfg(("filters", 3), ("kernel_size", new[] { 3, 3 }), ("padding", "valid")), [("kernel", kc), ("bias", bc)]),
            new("up", "UpSampling2D", Cfg(("size", new[] { 2, 3 }), ("interpolation", "nearest"))),
            new("zp2", "ZeroPadding2D", Cfg(("padding", 1))),
            new("ln", "LayerNormalization", Cfg(("axis", -1), ("epsilon", 0.001)), [("gamma", gamma), ("beta", lnb)]),
        ];
        string path = Legacy(SequentialConfig(layers), layers);
        using (var g = KerasReader.Load(path))
        {
            // The first ZeroPadding2D feeds a Conv: folded into its pads. The second feeds LayerNormalization: kept.
            Assert.Equal(["Transpose", "Conv", "Resize", "Pad", "Transpose", "LayerNormalization"], KerasAssert.Ops(g));
            Assert.Equal([1L, 0, 2, 1], g.Nodes[1].Attribute("pads")!.Ints!);
        }
        var x = KerasAssert.Random(_rng, 2, 4, 3, 2);
        var y = R.Conv2D(R.ZeroPad2D(x, 1, 2, 0, 1), kc, bc.Data, 1, 1, 1, 1, "valid");
        y = R.ZeroPad2D(R.UpSample2D(y, 2, 3), 1, 1, 1, 1);
        y = R.LayerNorm(y, gamma.Data, lnb.Data, 1e-3f);
        // Pad, Resize and LayerNormalization come with issue 4's operators; until then only ONNX Runtime runs this file.
        KerasEngines.CheckFile(path, new() { ["zp_input"] = x }, new() { ["ln"] = y });
    }

    [Fact]
    public void Keras3Zip_SequentialCnn_SnakeCaseWeightKeys()
    {
        var k1 = W(3, 3, 1, 4); var b1 = W(4);
        var g = W(4); var beta = W(4); var mean = W(4); var variance = Positive(4);
        var k2 = W(3, 3, 4, 2); var b2 = W(2);
        var kd = W(4, 3); var bd = W(3);
        static Dictionary<string, object?> L(string cls, string name, Dictionary<string, object?> cfg)
        {
            cfg["name"] = name;
            cfg["dtype"] = new Dictionary<string, object?> { ["module"] = "keras", ["class_name"] = "DTypePolicy", ["config"] = new Dictionary<string, object?> { ["name"] = "float32" }, ["registered_name"] = null };
            return new() { ["module"] = "keras.layers", ["class_name"] = cls, ["config"] = cfg, ["registered_name"] = null };
        }
        var layers = new object[]
        {
            L("InputLayer", "input_layer", Cfg(("batch_shape", new object?[] { null, 8, 6, 1 }))),
            L("Conv2D", "conv_a", Cfg(("filters", 4), ("kernel_size", new[] { 3, 3 }), ("padding", "same"), ("activation", "relu"), ("data_format", "channels_last"))),
            L("BatchNormalization", "bn", Cfg(("axis", -1), ("epsilon", 0.001))),
            L("MaxPooling2D", "pool", Cfg(("pool_size", new[] { 2, 2 }))),
            L("Conv2D", "conv_b", Cfg(("filters", 2), ("kernel_size", new[] { 3, 3 }), ("padding", "valid"), ("activation", "relu"))),
            L("Flatten", "flatten", Cfg()),
            L("Dropout", "dropout", Cfg(("rate", 0.5))),
            L("Dense", "dense", Cfg(("units", 3), ("activation", "softmax"))),
        };
        string config = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["module"] = "keras", ["class_name"] = "Sequential", ["registered_name"] = null,
            ["config"] = new Dictionary<string, object?> { ["name"] = "sequential", ["layers"] = layers },
        });
        string path = TempPath(".keras");
        _files.Add(path);
        WriteKeras3Zip(path, config, [("conv2d", [k1, b1]), ("batch_normalization", [g, beta, mean, variance]), ("max_pooling2d", []),
            ("conv2d_1", [k2, b2]), ("flatten", []), ("dropout", []), ("dense", [kd, bd])]);
        var x = KerasAssert.Random(_rng, 3, 8, 6, 1);
        var y = R.Map(R.Conv2D(x, k1, b1.Data, 1, 1, 1, 1, "same"), v => MathF.Max(v, 0));
        y = R.BatchNorm(y, g.Data, beta.Data, mean.Data, variance.Data, 1e-3f);
        y = R.Pool2D(y, 2, 2, 2, 2, "valid", max: true);
        y = R.Map(R.Conv2D(y, k2, b2.Data, 1, 1, 1, 1, "valid"), v => MathF.Max(v, 0));
        y = R.Softmax(R.Dense(R.Flatten(y), kd, bd.Data));
        MustRunInFastInfer(path, new() { ["input_layer"] = x }, new() { ["dense"] = y });
    }

    /// <summary>float64 and float16 weights are converted to float32 while they are read into the graph's buffers.</summary>
    [Theory]
    [InlineData("float64")]
    [InlineData("float16")]
    public void NonFloat32Weights_AreConvertedOnLoad(string dtype)
    {
        var k = W(3, 3, 2, 3); var b = W(3); var kd = W(36, 2); var bd = W(2);
        if (dtype == "float16")
            foreach (var t in new[] { k, b, kd, bd })
                for (int i = 0; i < t.Data.Length; i++) t.Data[i] = (float)(Half)t.Data[i]; // the values the file can hold
        SynthLayer[] layers =
        [
            new("conv", "Conv2D", Cfg(("batch_input_shape", new object?[] { null, 4, 3, 2 }), ("filters", 3), ("kernel_size", new[] { 3, 3 }), ("padding", "same")),
                [("kernel", k), ("bias", b)]),
            new("fl", "Flatten", Cfg()),
            new("d", "Dense", Cfg(("units", 2)), [("kernel", kd), ("bias", bd)]),
        ];
        string path = TempPath(".h5");
        _files.Add(path);
        WriteLegacy(path, SequentialConfig(layers), layers, "2.3.1", dtype: dtype);
        var x = KerasAssert.Random(_rng, 2, 4, 3, 2);
        var y = R.Dense(R.Flatten(R.Conv2D(x, k, b.Data, 1, 1, 1, 1, "same")), kd, bd.Data);
        MustRunInFastInfer(path, new() { ["conv_input"] = x }, new() { ["d"] = y });
    }

    /// <summary>MobileNet's idiom: ZeroPadding2D then a 'valid' stride-2 Conv2D / DepthwiseConv2D, and ZeroPadding1D → Conv1D.</summary>
    [Fact]
    public void ZeroPaddingBeforeConvolutions_FoldsIntoConvPads_AndRunsInFastInfer()
    {
        var k = W(3, 3, 3, 4); var b = W(4); var dk = W(3, 3, 4, 1); var db = W(4);
        SynthLayer[] layers =
        [
            new("zp", "ZeroPadding2D", Cfg(("batch_input_shape", new object?[] { null, 9, 8, 3 }), ("padding", new[] { new[] { 0, 1 }, new[] { 0, 1 } }))),
            new("conv", "Conv2D", Cfg(("filters", 4), ("kernel_size", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("padding", "valid"), ("activation", "relu6")),
                [("kernel", k), ("bias", b)]),
            new("zp2", "ZeroPadding2D", Cfg(("padding", 1))),
            new("dw", "DepthwiseConv2D", Cfg(("kernel_size", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("padding", "valid")), [("depthwise_kernel", dk), ("bias", db)]),
        ];
        string path = Legacy(SequentialConfig(layers), layers);
        using (var g = KerasReader.Load(path)) Assert.DoesNotContain(g.Nodes, n => n.OpType == "Pad");
        var x = KerasAssert.Random(_rng, 2, 9, 8, 3);
        var y = R.Map(R.Conv2D(R.ZeroPad2D(x, 0, 1, 0, 1), k, b.Data, 2, 2, 1, 1, "valid"), R.Relu6);
        y = R.Depthwise(R.ZeroPad2D(y, 1, 1, 1, 1), dk, db.Data, 2, 2, 1, 1, "valid");
        MustRunInFastInfer(path, new() { ["zp_input"] = x }, new() { ["dw"] = y });

        var k1 = W(3, 2, 2); var b1 = W(2);
        SynthLayer[] oneD =
        [
            new("zp1", "ZeroPadding1D", Cfg(("batch_input_shape", new object?[] { null, 7, 2 }), ("padding", 2))),
            new("c1", "Conv1D", Cfg(("filters", 2), ("kernel_size", 3), ("padding", "valid")), [("kernel", k1), ("bias", b1)]),
        ];
        path = Legacy(SequentialConfig(oneD), oneD);
        var x1 = KerasAssert.Random(_rng, 2, 7, 2);
        var y1 = R.Conv2D(R.ZeroPad2D(new T([2, 1, 7, 2], x1.Data), 0, 0, 2, 2), new T([1, 3, 2, 2], k1.Data), b1.Data, 1, 1, 1, 1, "valid");
        MustRunInFastInfer(path, new() { ["zp1_input"] = x1 }, new() { ["c1"] = new T([2, 9, 2], y1.Data) });
    }
}
