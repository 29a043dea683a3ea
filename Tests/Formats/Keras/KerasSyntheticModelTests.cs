using FastInfer.Formats;
using FastInfer.Formats.Keras;
using FastInfer.Ir;
using Xunit;
using static FastInfer.Tests.Formats.Keras.SyntheticKerasFiles;
using R = FastInfer.Tests.Formats.Keras.KerasReference;

namespace FastInfer.Tests.Formats.Keras;

/// <summary>
/// Small Keras-layout files written in the test, loaded by the reader, run through the test interpreter and compared
/// with Keras semantics computed directly in NHWC.
/// </summary>
public sealed class KerasSyntheticModelTests : IDisposable
{
    private readonly Random _rng = new(1234);
    private readonly List<string> _files = [];
    /// <summary>The file <see cref="LoadLegacy"/> wrote last, kept until the test ends for the runtime checks.</summary>
    private string _last = "";

    public void Dispose()
    {
        foreach (var f in _files) File.Delete(f);
    }

    /// <summary>The last file through FastInfer's runtime and through ONNX Runtime on its ONNX export.</summary>
    private bool CheckEngines(Dictionary<string, Tensor> inputs, Dictionary<string, Tensor> expected) =>
        FastInfer.Tests.Keras.KerasEngines.CheckFile(_last, inputs, expected);
    private Tensor W(params long[] shape)
    {
        var t = KerasAssert.Random(_rng, shape);
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] *= 0.5f;
        return t;
    }
    private Tensor Positive(params long[] shape) => R.Map(W(shape), v => MathF.Abs(v) + 0.5f);
    private static object[] In(params string[] layers) => [layers.Select(l => new object[] { l, 0, 0, new Dictionary<string, object>() }).ToArray()];

    private ModelGraph LoadLegacy(string config, IReadOnlyList<SynthLayer> layers, string version = "2.3.1", bool keras3Names = false)
    {
        string path = TempPath(".h5");
        _files.Add(path);
        WriteLegacy(path, config, layers, version, keras3Names);
        _last = path;
        return KerasReader.Load(path);
    }

    [Fact]
    public void SequentialConvStack_SameStridesDepthwiseSeparablePoolsUpsamplingPRelu()
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
                ("padding", "same"), ("dilation_rate", new[] { 1, 1 }), ("activation", "relu"), ("use_bias", true), ("data_format", "channels_last"), ("dtype", "float32")),
                [("kernel", k1), ("bias", b1)]),
            new("dw", "DepthwiseConv2D", Cfg(("kernel_size", new[] { 3, 3 }), ("depth_multiplier", 2), ("padding", "same"), ("strides", new[] { 1, 1 }), ("use_bias", true), ("activation", "linear")),
                [("depthwise_kernel", dk), ("bias", db)]),
            new("bn", "BatchNormalization", Cfg(("axis", -1), ("epsilon", 0.01), ("center", true), ("scale", false)),
                [("beta", beta), ("moving_mean", mean), ("moving_variance", variance)]),
            new("pr", "PReLU", Cfg(("shared_axes", new[] { 1, 2 })), [("alpha", alpha)]),
            new("zp", "ZeroPadding2D", Cfg(("padding", new[] { new[] { 1, 0 }, new[] { 2, 1 } })), []),
            new("sep", "SeparableConv2D", Cfg(("filters", 5), ("kernel_size", new[] { 2, 2 }), ("depth_multiplier", 1), ("padding", "valid"), ("dilation_rate", new[] { 2, 2 }),
                ("activation", "gelu"), ("use_bias", true)), [("depthwise_kernel", sdk), ("pointwise_kernel", spk), ("bias", sb)]),
            new("mp", "MaxPooling2D", Cfg(("pool_size", new[] { 2, 2 }), ("strides", null), ("padding", "same")), []),
            new("up", "UpSampling2D", Cfg(("size", new[] { 2, 2 }), ("interpolation", "nearest")), []),
            new("ap", "AveragePooling2D", Cfg(("pool_size", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("padding", "same")), []),
            new("fl", "Flatten", Cfg(), []),
            new("drop", "Dropout", Cfg(("rate", 0.5)), []),
            new("d1", "Dense", Cfg(("units", 6), ("activation", "selu"), ("use_bias", true)), [("kernel", d1), ("bias", d1b)]),
            new("d2", "Dense", Cfg(("units", 3), ("activation", "softmax"), ("use_bias", true)), [("kernel", d2), ("bias", d2b)]),
        ];
        using var g = LoadLegacy(SequentialConfig(layers), layers);
        Assert.Equal("c1_input", g.Inputs[0].Name);
        Assert.Equal("[batch,7,6,3]", KerasAssert.Shape(g.Inputs[0]));
        Assert.Equal("[batch,3]", KerasAssert.Shape(g.Outputs[0]));
        Assert.Single(g.Nodes, n => n.OpType == "Transpose");
        var c1 = g.Nodes.First(n => n.OpType == "Conv");
        Assert.Equal([1L, 0, 1, 1], c1.Attribute("pads")!.Ints!);
        Assert.Equal([8, 1, 3, 3], KerasAssert.Dims(g, "dw/depthwise_kernel"));
        Assert.Equal(4, g.Nodes.Where(n => n.OpType == "Conv").ElementAt(1).Attribute("group")!.Int);
        Assert.Equal(0, g.Nodes.Single(n => n.OpType == "AveragePool").Attribute("count_include_pad")!.Int);
        Assert.Equal([20, 6], KerasAssert.Dims(g, "d1/kernel_chw"));

        var x = KerasAssert.Random(_rng, 2, 7, 6, 3);
        var y = R.Map(R.Conv2D(x, k1, b1.Data, 2, 2, 1, 1, "same"), v => MathF.Max(v, 0));
        y = R.Depthwise(y, dk, db.Data, 1, 1, 1, 1, "same");
        y = R.BatchNorm(y, Enumerable.Repeat(1f, 8).ToArray(), beta.Data, mean.Data, variance.Data, 0.01f);
        y = R.PRelu(y, alpha);
        y = R.ZeroPad2D(y, 1, 0, 2, 1);
        y = R.Conv2D(R.Depthwise(y, sdk, null, 1, 1, 2, 2, "valid"), spk, sb.Data, 1, 1, 1, 1, "valid");
        y = R.Map(y, R.Gelu);
        y = R.Pool2D(y, 2, 2, 2, 2, "same", max: true);
        y = R.UpSample2D(y, 2, 2);
        y = R.Pool2D(y, 3, 3, 2, 2, "same", max: false);
        y = R.Map(R.Dense(R.Flatten(y), d1, d1b.Data), R.Selu);
        y = R.Softmax(R.Dense(y, d2, d2b.Data));
        KerasAssert.Close(y, KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
        CheckEngines(new() { ["c1_input"] = x }, new() { ["d2"] = y });
    }

    [Fact]
    public void FunctionalDag_MergesPermuteReshapeConv1DSharedLayerMultipleOutputs()
    {
        var ka = W(3, 3, 3, 4); var ba = W(4); var kb = W(1, 1, 3, 4);
        var gamma = W(7); var lnb = W(7);
        var kd = W(28, 5); var bd = W(5);
        var kc = W(3, 5, 3); var bc = W(3);
        var ks = W(3, 3); var bs = W(3);
        SynthLayer[] layers =
        [
            new("inp", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 8, 8, 3 }), ("dtype", "float32"))),
            new("ca", "Conv2D", Cfg(("filters", 4), ("kernel_size", new[] { 3, 3 }), ("dilation_rate", new[] { 2, 2 }), ("padding", "same"), ("activation", "relu6"), ("use_bias", true)),
                [("kernel", ka), ("bias", ba)], In("inp")),
            new("cb", "Conv2D", Cfg(("filters", 4), ("kernel_size", new[] { 1, 1 }), ("padding", "valid"), ("activation", "hard_sigmoid"), ("use_bias", false)),
                [("kernel", kb)], In("inp")),
            new("add", "Add", Cfg(), [], In("ca", "cb")),
            new("cat", "Concatenate", Cfg(("axis", -1)), [], In("add", "inp")),
            new("ln", "LayerNormalization", Cfg(("axis", new[] { 3 }), ("epsilon", 0.001), ("center", true), ("scale", true)), [("gamma", gamma), ("beta", lnb)], In("cat")),
            new("perm", "Permute", Cfg(("dims", new[] { 2, 1, 3 })), [], In("ln")),
            new("rs", "Reshape", Cfg(("target_shape", new[] { 16, -1 })), [], In("perm")),
            new("d3", "Dense", Cfg(("units", 5), ("activation", "swish"), ("use_bias", true)), [("kernel", kd), ("bias", bd)], In("rs")),
            new("c1d", "Conv1D", Cfg(("filters", 3), ("kernel_size", new[] { 3 }), ("padding", "causal"), ("dilation_rate", new[] { 2 }), ("activation", "elu"), ("use_bias", true)),
                [("kernel", kc), ("bias", bc)], In("d3")),
            new("mp1", "MaxPooling1D", Cfg(("pool_size", new[] { 2 }), ("padding", "valid")), [], In("c1d")),
            new("gap", "GlobalAveragePooling1D", Cfg(), [], In("mp1")),
            new("shared", "Dense", Cfg(("units", 3), ("activation", "tanh"), ("use_bias", true)), [("kernel", ks), ("bias", bs)],
                new object[] { In("gap")[0], In("shared")[0] }),
            new("mx", "Maximum", Cfg(), [], new object[] { new object[] { new object[] { "shared", 0, 0, new Dictionary<string, object>() }, new object[] { "shared", 1, 0, new Dictionary<string, object>() } } }),
            new("gmp", "GlobalMaxPooling2D", Cfg(), [], In("ca")),
            new("resc", "Rescaling", Cfg(("scale", 0.5), ("offset", 1.0)), [], In("gmp")),
        ];
        string config = FunctionalConfig(layers, new object[] { new object[] { "inp", 0, 0 } },
            new object[] { new object[] { "mx", 0, 0 }, new object[] { "resc", 0, 0 }, new object[] { "cat", 0, 0 } });
        using var g = LoadLegacy(config, layers);
        Assert.Equal(["mx", "resc", "cat"], g.Outputs.Select(o => o.Name));
        Assert.Equal("[batch,8,8,7]", KerasAssert.Shape(g.Outputs[2]));
        Assert.Single(g.Initializers.Keys, k => k.StartsWith("shared/kernel", StringComparison.Ordinal));
        Assert.Equal(1, g.Nodes.Single(n => n.OpType == "Concat").Attribute("axis")!.Int);
        Assert.Contains(g.Nodes, n => n.OpType == "MatMul");

        var x = KerasAssert.Random(_rng, 2, 8, 8, 3);
        var a = R.Map(R.Conv2D(x, ka, ba.Data, 1, 1, 2, 2, "same"), R.Relu6);
        var b = R.Map(R.Conv2D(x, kb, null, 1, 1, 1, 1, "valid"), R.HardSigmoidK2);
        var cat = R.Concat(R.Zip(a, b, (p, q) => p + q), x);
        var y = R.LayerNorm(cat, gamma.Data, lnb.Data, 1e-3f);
        y = R.Reshape(R.Permute(y, 2, 1, 3), 16, 28);
        y = R.Map(R.Dense(y, kd, bd.Data), R.Swish);
        // Conv1D as a 2-D conv with H = 1; causal = left padding only.
        var y4 = new Tensor([2, 1, 16, 5], y.Data);
        var padded = R.ZeroPad2D(y4, 0, 0, 4, 0);
        var c = R.Conv2D(padded, new Tensor([1, 3, 5, 3], kc.Data), bc.Data, 1, 1, 1, 2, "valid");
        c = R.Map(c, v => R.Elu(v));
        c = R.Pool2D(c, 1, 2, 1, 2, "valid", max: true);
        var gap = R.GlobalPool(c, max: false);
        var s1 = R.Map(R.Dense(gap, ks, bs.Data), MathF.Tanh);
        var s2 = R.Map(R.Dense(s1, ks, bs.Data), MathF.Tanh);
        var mx = R.Zip(s1, s2, MathF.Max);
        var resc = R.Map(R.GlobalPool(a, max: true), v => v * 0.5f + 1f);

        var outs = ReferenceInterpreter.Run(g, new() { ["inp"] = x });
        KerasAssert.Close(mx, outs["mx"], 1e-3, 1e-4, "mx");
        KerasAssert.Close(resc, outs["resc"], 1e-3, 1e-4, "resc");
        KerasAssert.Close(cat, outs["cat"], 1e-3, 1e-4, "cat");
        CheckEngines(new() { ["inp"] = x }, new() { ["mx"] = mx, ["resc"] = resc, ["cat"] = cat });
    }

    [Fact]
    public void Keras3LegacyH5_ActivationsNormalizationAndFlatWeightNames()
    {
        var e1 = W(10, 8); var e1b = W(8); var e2 = W(8, 8); var e2b = W(8); var e3 = W(8, 8); var e3b = W(8);
        var e4 = W(8, 8); var e4b = W(8); var e5 = W(8, 6); var e5b = W(6);
        var g2 = W(8); var b2 = W(8); var m2 = W(8); var v2 = Positive(8);
        float[] mean = [0.1f, -0.2f, 0.3f, 0f, 0.5f, -0.1f], variance = [1f, 2f, 0.5f, 1.5f, 0.25f, 1f];
        SynthLayer[] layers =
        [
            new("input_layer", "InputLayer", Cfg(("batch_shape", new object?[] { null, 10 }), ("dtype", "float32"))),
            new("e1", "Dense", Cfg(("units", 8), ("activation", "elu")), [("kernel", e1), ("bias", e1b)]),
            new("a1", "Activation", Cfg(("activation", "selu"))),
            new("e2", "Dense", Cfg(("units", 8), ("activation", "softplus")), [("kernel", e2), ("bias", e2b)]),
            new("a2", "Activation", Cfg(("activation", "softsign"))),
            new("lr", "LeakyReLU", Cfg(("negative_slope", 0.1))),
            new("relu", "ReLU", Cfg(("max_value", 0.5), ("negative_slope", 0.05), ("threshold", 0.0))),
            new("bn", "BatchNormalization", Cfg(("axis", -1), ("epsilon", 0.001)), [("gamma", g2), ("beta", b2), ("moving_mean", m2), ("moving_variance", v2)]),
            new("e3", "Dense", Cfg(("units", 8), ("activation", "hard_sigmoid")), [("kernel", e3), ("bias", e3b)]),
            new("a3", "Activation", Cfg(("activation", "mish"))),
            new("e4", "Dense", Cfg(("units", 8), ("activation", "relu6")), [("kernel", e4), ("bias", e4b)]),
            new("elu", "ELU", Cfg(("alpha", 0.7))),
            new("a4", "Activation", Cfg(("activation", "gelu"))),
            new("a5", "Activation", Cfg(("activation", "exponential"))),
            new("e5", "Dense", Cfg(("units", 6), ("activation", "linear")), [("kernel", e5), ("bias", e5b)]),
            new("norm", "Normalization", Cfg(("axis", -1), ("mean", mean), ("variance", variance))),
            new("sm", "Softmax", Cfg(("axis", -1))),
        ];
        using var g = LoadLegacy(SequentialConfig(layers), layers, "3.1.0", keras3Names: true);
        Assert.Equal("input_layer", g.Inputs[0].Name);
        Assert.Equal("sm", g.Outputs[0].Name);
        var hs = g.Nodes.Single(n => n.OpType == "HardSigmoid");
        Assert.Equal(1f / 6f, hs.Attribute("alpha")!.Float, 6);

        var x = KerasAssert.Random(_rng, 3, 10);
        var y = R.Map(R.Map(R.Dense(x, e1, e1b.Data), v => R.Elu(v)), R.Selu);
        y = R.Map(R.Map(R.Dense(y, e2, e2b.Data), R.Softplus), R.Softsign);
        y = R.Map(y, v => v >= 0 ? v : 0.1f * v);
        y = R.Map(y, v => MathF.Min(v >= 0 ? v : 0.05f * v, 0.5f));
        y = R.BatchNorm(y, g2.Data, b2.Data, m2.Data, v2.Data, 1e-3f);
        y = R.Map(R.Map(R.Dense(y, e3, e3b.Data), R.HardSigmoidK3), R.Mish);
        y = R.Map(R.Dense(y, e4, e4b.Data), R.Relu6);
        y = R.Map(R.Map(R.Map(y, v => R.Elu(v, 0.7f)), R.Gelu), MathF.Exp);
        y = R.Dense(y, e5, e5b.Data);
        y = R.PerChannel(y, (v, c) => (v - mean[c]) / MathF.Max(MathF.Sqrt(variance[c]), 1e-7f));
        y = R.Softmax(y);
        KerasAssert.Close(y, KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
        CheckEngines(new() { ["input_layer"] = x }, new() { ["sm"] = y });
    }

    [Fact]
    public void Keras3ZipFunctional_DictInboundNodesDeflatedEntries()
    {
        var ka = W(4, 3); var ba = W(3); var kb = W(4, 3); var bb = W(3); var kc = W(7, 2); var bc = W(2);
        static object T(string layer) => new Dictionary<string, object?>
        {
            ["class_name"] = "__keras_tensor__",
            ["config"] = new Dictionary<string, object?> { ["shape"] = new object?[] { null, 4 }, ["dtype"] = "float32", ["keras_history"] = new object[] { layer, 0, 0 } },
        };
        static object Node(params object[] args) => new object[] { new Dictionary<string, object?> { ["args"] = args, ["kwargs"] = new Dictionary<string, object>() } };
        static Dictionary<string, object?> L(string cls, string name, Dictionary<string, object?> cfg, object inbound)
        {
            cfg["name"] = name;
            cfg["dtype"] = new Dictionary<string, object?> { ["module"] = "keras", ["class_name"] = "DTypePolicy", ["config"] = new Dictionary<string, object?> { ["name"] = "float32" }, ["registered_name"] = null };
            return new() { ["module"] = "keras.layers", ["class_name"] = cls, ["config"] = cfg, ["registered_name"] = null, ["name"] = name, ["inbound_nodes"] = inbound };
        }
        var layers = new object[]
        {
            L("InputLayer", "input_layer", Cfg(("batch_shape", new object?[] { null, 4 }), ("sparse", false)), Array.Empty<object>()),
            L("Dense", "da", Cfg(("units", 3), ("activation", "relu"), ("use_bias", true)), Node(T("input_layer"))),
            L("Dense", "db", Cfg(("units", 3), ("activation", "linear"), ("use_bias", true)), Node(T("input_layer"))),
            L("Subtract", "sub", Cfg(), Node(new object[] { T("da"), T("db") })),
            L("Concatenate", "cat", Cfg(("axis", -1)), Node(new object[] { T("sub"), T("input_layer") })),
            L("Dense", "dc", Cfg(("units", 2), ("activation", "sigmoid"), ("use_bias", true)), Node(T("cat"))),
        };
        string config = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["module"] = "keras.src.models.functional", ["class_name"] = "Functional", ["registered_name"] = "Functional",
            ["config"] = new Dictionary<string, object?> { ["name"] = "functional", ["layers"] = layers, ["input_layers"] = new object[] { "input_layer", 0, 0 }, ["output_layers"] = new object[] { "dc", 0, 0 } },
        });
        string path = TempPath(".keras");
        try
        {
            // Keys follow model.layers order per class: dense, dense_1, dense_2 (Subtract/Concatenate have no vars).
            WriteKeras3Zip(path, config, [("dense", [ka, ba]), ("dense_1", [kb, bb]), ("dense_2", [kc, bc]), ("subtract", []), ("concatenate", [])]);
            using var g = KerasReader.Load(path);
            Assert.Equal(["Gemm", "Relu", "Gemm", "Sub", "Concat", "Gemm", "Sigmoid"], KerasAssert.Ops(g));
            Assert.Equal("dc", g.Outputs[0].Name);
            var x = KerasAssert.Random(_rng, 5, 4);
            var a = R.Map(R.Dense(x, ka, ba.Data), v => MathF.Max(v, 0));
            var b = R.Dense(x, kb, bb.Data);
            var y = R.Map(R.Dense(R.Concat(R.Zip(a, b, (p, q) => p - q), x), kc, bc.Data), R.Sigmoid);
            KerasAssert.Close(y, KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
            FastInfer.Tests.Keras.KerasEngines.CheckFile(path, new() { ["input_layer"] = x }, new() { ["dc"] = y });
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Sequential1D_ZeroPaddingConvSameUpSamplingAvgPoolGlobalMax()
    {
        var k = W(4, 2, 3); var b = W(3);
        SynthLayer[] layers =
        [
            new("zp", "ZeroPadding1D", Cfg(("batch_input_shape", new object?[] { null, 9, 2 }), ("padding", new[] { 1, 2 }))),
            new("conv", "Conv1D", Cfg(("filters", 3), ("kernel_size", 4), ("strides", 2), ("padding", "same"), ("activation", "tanh")), [("kernel", k), ("bias", b)]),
            new("up", "UpSampling1D", Cfg(("size", 2))),
            new("ap", "AveragePooling1D", Cfg(("pool_size", 3), ("strides", 2), ("padding", "same"))),
            new("gmp", "GlobalMaxPooling1D", Cfg()),
        ];
        using var g = LoadLegacy(SequentialConfig(layers), layers);
        // The ZeroPadding1D folds into the Conv's pads (1 + 1 'same' left, 2 + 1 right).
        Assert.Equal(["Transpose", "Conv", "Tanh", "Resize", "AveragePool", "GlobalMaxPool", "Flatten"], KerasAssert.Ops(g));
        Assert.Equal([2L, 3], g.Nodes[1].Attribute("pads")!.Ints!);
        Assert.Equal([3, 2, 4], KerasAssert.Dims(g, "conv/kernel"));
        var x = KerasAssert.Random(_rng, 2, 9, 2);
        var y = R.ZeroPad2D(new Tensor([2, 1, 9, 2], x.Data), 0, 0, 1, 2);
        y = R.Map(R.Conv2D(y, new Tensor([1, 4, 2, 3], k.Data), b.Data, 1, 2, 1, 1, "same"), MathF.Tanh);
        y = R.Pool2D(R.UpSample2D(y, 1, 2), 1, 3, 1, 2, "same", max: false);
        KerasAssert.Close(R.GlobalPool(y, max: true), KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
        CheckEngines(new() { ["zp_input"] = x }, new() { ["gmp"] = R.GlobalPool(y, max: true) });
    }

    [Fact]
    public void FunctionalTwoInputs_AverageMinimum_KeepDimsPool_RepeatedOutput()
    {
        SynthLayer[] layers =
        [
            new("in_a", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 2, 3, 4 }))),
            new("in_b", "InputLayer", Cfg(("batch_input_shape", new object?[] { null, 2, 3, 4 }))),
            new("avg", "Average", Cfg(), [], In("in_a", "in_b")),
            new("mn", "Minimum", Cfg(), [], In("in_a", "in_b")),
            new("gap", "GlobalAveragePooling2D", Cfg(("keepdims", true)), [], In("avg")),
        ];
        string config = FunctionalConfig(layers, new object[] { new object[] { "in_a", 0, 0 }, new object[] { "in_b", 0, 0 } },
            new object[] { new object[] { "gap", 0, 0 }, new object[] { "mn", 0, 0 }, new object[] { "mn", 0, 0 } }, cls: "Functional");
        using var g = LoadLegacy(config, layers, "2.4.0");
        Assert.Equal(["in_a", "in_b"], g.Inputs.Select(i => i.Name));
        Assert.Equal(["gap", "mn", "mn_1"], g.Outputs.Select(o => o.Name));
        Assert.Equal("[batch,1,1,4]", KerasAssert.Shape(g.Outputs[0]));
        var a = KerasAssert.Random(_rng, 2, 2, 3, 4);
        var b = KerasAssert.Random(_rng, 2, 2, 3, 4);
        var outs = ReferenceInterpreter.Run(g, new() { ["in_a"] = a, ["in_b"] = b });
        var avg = R.Zip(a, b, (p, q) => (p + q) / 2);
        KerasAssert.Close(new Tensor([2, 1, 1, 4], R.GlobalPool(avg, max: false).Data), outs["gap"]);
        KerasAssert.Close(R.Zip(a, b, MathF.Min), outs["mn"]);
        KerasAssert.Close(R.Zip(a, b, MathF.Min), outs["mn_1"]);
        CheckEngines(new() { ["in_a"] = a, ["in_b"] = b }, new() { ["gap"] = new Tensor([2, 1, 1, 4], R.GlobalPool(avg, max: false).Data), ["mn"] = R.Zip(a, b, MathF.Min), ["mn_1"] = R.Zip(a, b, MathF.Min) });
    }

    [Fact]
    public void MalformedConfigValues_GiveModelFormatException()
    {
        var d = new SynthLayer("d", "Dense", Cfg(("units", "many"), ("batch_input_shape", new object?[] { null, 4 })), [("kernel", W(4, 2)), ("bias", W(2))]);
        Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([d]), [d]).Dispose());
        var r = new SynthLayer("r", "Reshape", Cfg(("target_shape", new[] { 3, -1 }), ("batch_input_shape", new object?[] { null, 4 })));
        Assert.Contains("reshape", Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([r]), [r]).Dispose()).Message);
        var p = new SynthLayer("p", "Permute", Cfg(("dims", new[] { 1, 1 }), ("batch_input_shape", new object?[] { null, 4, 4 })));
        Assert.Contains("permutation", Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([p]), [p]).Dispose()).Message);
    }

    private static SynthLayer DenseLayer(string name, int units, Tensor kernel, Tensor bias, object? extraInput = null) =>
        new(name, "Dense", Cfg(("units", units), ("activation", "linear"), ("use_bias", true), ("batch_input_shape", extraInput)), [("kernel", kernel), ("bias", bias)]);

    [Fact]
    public void Rejects_ChannelsFirst_UnknownLayer_WeightShapeMismatch_MissingWeights()
    {
        var conv = new SynthLayer("c", "Conv2D", Cfg(("batch_input_shape", new object?[] { null, 3, 8, 8 }), ("filters", 2), ("kernel_size", new[] { 3, 3 }),
            ("data_format", "channels_first")), [("kernel", W(3, 3, 3, 2)), ("bias", W(2))]);
        var e = Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([conv]), [conv]).Dispose());
        Assert.Contains("channels_first", e.Message);
        Assert.Contains("'c'", e.Message);

        var lambda = new SynthLayer("lam", "Lambda", Cfg(("function", "x")), []);
        var d = DenseLayer("d", 2, W(4, 2), W(2), new object?[] { null, 4 });
        e = Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([d, lambda]), [d, lambda]).Dispose());
        Assert.Contains("'lam' (Lambda)", e.Message);

        var bad = DenseLayer("d", 2, W(5, 2), W(2), new object?[] { null, 4 });
        e = Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([bad]), [bad]).Dispose());
        Assert.Contains("layer 'd' (Dense)", e.Message);
        Assert.Contains("(5,2)", e.Message);

        var noWeights = new SynthLayer("d", "Dense", Cfg(("units", 2), ("batch_input_shape", new object?[] { null, 4 })), []);
        e = Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([noWeights]), [noWeights]).Dispose());
        Assert.Contains("weight arrays", e.Message);

        var relu = new SynthLayer("r", "ReLU", Cfg(("threshold", 0.5), ("batch_input_shape", new object?[] { null, 4 })), []);
        e = Assert.Throws<ModelFormatException>(() => LoadLegacy(SequentialConfig([relu]), [relu]).Dispose());
        Assert.Contains("threshold", e.Message);
    }

    [Fact]
    public void Rejects_GarbageAndTruncatedFiles()
    {
        string path = TempPath(".h5");
        try
        {
            File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
            Assert.Throws<ModelFormatException>(() => KerasReader.Load(path));
            File.WriteAllBytes(path, [0x89, (byte)'H', (byte)'D', (byte)'F', 13, 10, 0x1a, 10, 0, 0, 0]);
            Assert.Throws<ModelFormatException>(() => KerasReader.Load(path));
            File.WriteAllBytes(path, [(byte)'P', (byte)'K', 3, 4, 0, 0, 0]);
            Assert.Throws<ModelFormatException>(() => KerasReader.Load(path));
        }
        finally { File.Delete(path); }
        Assert.Throws<FileNotFoundException>(() => KerasReader.Load("/nonexistent/model.h5"));
    }

    [Fact]
    public void SnakeCase_MatchesKeras()
    {
        Assert.Equal("conv2d", KerasNamingProbe("Conv2D"));
        Assert.Equal("max_pooling2d", KerasNamingProbe("MaxPooling2D"));
        Assert.Equal("batch_normalization", KerasNamingProbe("BatchNormalization"));
        Assert.Equal("re_lu", KerasNamingProbe("ReLU"));
        Assert.Equal("p_re_lu", KerasNamingProbe("PReLU"));
        Assert.Equal("global_average_pooling2d", KerasNamingProbe("GlobalAveragePooling2D"));
    }

    private static string KerasNamingProbe(string cls)
    {
        var t = typeof(KerasReader).Assembly.GetType("FastInfer.Formats.Keras.KerasNaming")!;
        return (string)t.GetMethod("ToSnakeCase")!.Invoke(null, [cls])!;
    }
}
