using FastInfer.Formats;
using FastInfer.Formats.Keras;
using PureHDF;
using StbImageSharp;
using Xunit;

namespace FastInfer.Tests.Formats.Keras;

/// <summary>Every real Keras file under shared/keras-models: structure, and numbers where Keras wrote expected outputs.</summary>
public class KerasSharedModelTests
{
    private static Tensor ReadH5(string file, string path)
    {
        using var h5 = H5File.OpenRead(file);
        var ds = h5.Dataset(path);
        var shape = ds.Space.Dimensions.Select(d => (long)d).ToArray();
        var data = ds.Type.Size == 8 ? ds.Read<double[]>().Select(v => (float)v).ToArray() : ds.Read<float[]>();
        return new Tensor(shape, data);
    }

    [KerasSharedFact]
    public void Keras3MnistCnn_Structure()
    {
        using var g = KerasReader.Load(KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras"));
        Assert.Equal("keras", g.SourceFormat);
        Assert.Equal(17, g.OpsetImports[""]);
        Assert.Equal("3.1.1", g.Metadata["keras_version"]);
        // One input channel: NHWC → NCHW keeps the element order, so a Reshape (a view) replaces the Transpose.
        Assert.Equal(["Reshape", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Identity", "Gemm", "Softmax"], KerasAssert.Ops(g));
        Assert.Equal("input_layer", Assert.Single(g.Inputs).Name);
        Assert.Equal("[batch,28,28,1]", KerasAssert.Shape(g.Inputs[0]));
        Assert.Equal("dense", Assert.Single(g.Outputs).Name);
        Assert.Equal("[batch,10]", KerasAssert.Shape(g.Outputs[0]));
        Assert.Equal([32, 1, 3, 3], KerasAssert.Dims(g, "conv2d/kernel"));
        Assert.Equal([64, 32, 3, 3], KerasAssert.Dims(g, "conv2d_1/kernel"));
        Assert.Equal([1600, 10], KerasAssert.Dims(g, "dense/kernel_chw"));
        Assert.Equal([10], KerasAssert.Dims(g, "dense/bias"));
        var conv = g.Nodes[1];
        Assert.Equal([3L, 3], conv.Attribute("kernel_shape")!.Ints!);
        Assert.Equal([0L, 0, 0, 0], conv.Attribute("pads")!.Ints!);
        Assert.Equal(-1, g.Nodes.Last().Attribute("axis")!.Int);
    }

    [KerasSharedFact]
    public void Keras3MnistCnn_ClassifiesDigits()
    {
        using var g = KerasReader.Load(KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras"));
        foreach (int digit in new[] { 1, 8 })
        {
            using var s = File.OpenRead(KerasShared.Path("keras3_mnist_cnn", $"{digit}.png"));
            var img = ImageResult.FromStream(s, ColorComponents.Grey);
            Assert.Equal(28, img.Width);
            Assert.Equal(28, img.Height);
            var x = new Tensor([1, 28, 28, 1], img.Data.Select(b => b / 255f).ToArray());
            var p = KerasAssert.RunSingle(g, x);
            Assert.Equal([1L, 10], p.Shape);
            int best = Array.IndexOf(p.Data, p.Data.Max());
            Assert.Equal(digit, best);
            Assert.True(p.Data[best] > 0.99f, $"p({digit}) = {p.Data[best]}");
        }
    }

    [KerasSharedFact]
    public void CnnBatchNorm_MatchesKerasPredictions()
    {
        string dir = KerasShared.Path("dl4j_cnn_batch_norm");
        using var g = KerasReader.Load(Path.Combine(dir, "cnn_batch_norm.h5"));
        Assert.Equal(["Transpose", "Conv", "BatchNormalization", "Relu", "Conv", "Flatten", "Gemm"], KerasAssert.Ops(g));
        Assert.Equal("conv2d_1_input", g.Inputs[0].Name);
        Assert.Equal("[batch,10,10,3]", KerasAssert.Shape(g.Inputs[0]));
        Assert.Equal("dense_1", g.Outputs[0].Name);
        Assert.Equal("[batch,1]", KerasAssert.Shape(g.Outputs[0]));
        Assert.Equal([1, 3, 3, 3], KerasAssert.Dims(g, "conv2d_1/kernel"));
        Assert.Equal([36, 1], KerasAssert.Dims(g, "dense_1/kernel"));
        Assert.Equal(1e-3f, g.Nodes[2].Attribute("epsilon")!.Float, 6);
        var x = Npy.Read(Path.Combine(dir, "input.npy"));
        var expected = Npy.Read(Path.Combine(dir, "predictions.npy"));
        Assert.Equal([5L, 10, 10, 3], x.Shape);
        KerasAssert.Close(expected, KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
    }

    [KerasSharedFact]
    public void DenseSoftmax_FullModelAndJsonWeightsPair_MatchKerasOutputs()
    {
        string dir = KerasShared.Path("dl4j_dense_softmax");
        string io = Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_inputs_and_outputs.h5");
        var x = ReadH5(io, "inputs/dense_1_input");
        var expected = ReadH5(io, "outputs/activation_1");
        using var full = KerasReader.Load(Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_model.h5"));
        using var pair = KerasReader.Load(Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_config.json"),
            Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_weights.h5"));
        foreach (var g in new[] { full, pair })
        {
            Assert.Equal(["Gemm", "Softmax"], KerasAssert.Ops(g));
            Assert.Equal("dense_1_input", g.Inputs[0].Name);
            Assert.Equal("[batch,4]", KerasAssert.Shape(g.Inputs[0]));
            Assert.Equal("activation_1", g.Outputs[0].Name);
            Assert.Equal("[batch,3]", KerasAssert.Shape(g.Outputs[0]));
            Assert.Equal([4, 3], KerasAssert.Dims(g, "dense_1/kernel"));
            KerasAssert.Close(expected, KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
        }
        // The intermediate activation Keras recorded for dense_1 matches the Gemm's output too.
        var dense = ReadH5(io, "activations/dense_1");
        full.Outputs.Clear();
        full.Outputs.Add(new FastInfer.Ir.ValueInfo(full.Nodes[0].Outputs[0], FastInfer.Ir.DataType.Float, null));
        KerasAssert.Close(dense, KerasAssert.RunSingle(full, x), 1e-3, 1e-4);
    }

    [KerasSharedFact]
    public void Keras1Conv2dReshape_StructureAndNhwcReference()
    {
        string file = KerasShared.Path("dl4j_keras1_conv2d_reshape", "conv2d_reshape_tensorflow_1.h5");
        using var g = KerasReader.Load(file);
        Assert.Equal(["Transpose", "Conv", "Transpose", "Reshape", "Transpose", "Conv", "Flatten", "Gemm"], KerasAssert.Ops(g));
        Assert.Equal("convolution2d_1_input", g.Inputs[0].Name);
        Assert.Equal("[batch,5,5,5]", KerasAssert.Shape(g.Inputs[0]));
        Assert.Equal("dense_1", g.Outputs[0].Name);
        Assert.Equal("[batch,12]", KerasAssert.Shape(g.Outputs[0]));
        Assert.Equal([6, 5, 3, 2], KerasAssert.Dims(g, "convolution2d_1/kernel"));
        Assert.Equal([6, 6, 1, 1], KerasAssert.Dims(g, "convolution2d_2/kernel"));
        Assert.Equal([72, 12], KerasAssert.Dims(g, "dense_1/kernel_chw"));
        Assert.Equal("1", g.ProducerVersion.Length == 0 ? "1" : g.ProducerVersion[..1]);

        // Keras semantics in NHWC from the raw weights.
        string W(string layer, string suffix) => $"model_weights/{layer}/{layer}_{suffix}:0";
        var rng = new Random(7);
        var x = KerasAssert.Random(rng, 2, 5, 5, 5);
        var y = KerasReference.Conv2D(x, ReadH5(file, W("convolution2d_1", "W")), ReadH5(file, W("convolution2d_1", "b")).Data, 1, 1, 1, 1, "valid");
        y = KerasReference.Reshape(y, 4, 3, 6);
        y = KerasReference.Conv2D(y, ReadH5(file, W("convolution2d_2", "W")), ReadH5(file, W("convolution2d_2", "b")).Data, 1, 1, 1, 1, "valid");
        y = KerasReference.Dense(KerasReference.Flatten(y), ReadH5(file, W("dense_1", "W")), ReadH5(file, W("dense_1", "b")).Data);
        KerasAssert.Close(y, KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
    }

    [KerasSharedFact]
    public void TfKeras24Flatten3d_FunctionalStructureAndNumbers()
    {
        string file = KerasShared.Path("dl4j_tfkeras24_flatten_3d", "flatten_3d.hdf5");
        using var g = KerasReader.Load(file);
        Assert.Equal(["Flatten", "Gemm"], KerasAssert.Ops(g));
        Assert.Equal("input_1", g.Inputs[0].Name);
        Assert.Equal("[batch,10,10,10,1]", KerasAssert.Shape(g.Inputs[0]));
        Assert.Equal("dense", g.Outputs[0].Name);
        Assert.Equal("[batch,10]", KerasAssert.Shape(g.Outputs[0]));
        Assert.Equal([1000, 10], KerasAssert.Dims(g, "dense/kernel"));
        var x = KerasAssert.Random(new Random(3), 2, 10, 10, 10, 1);
        var y = KerasReference.Dense(KerasReference.Flatten(x), ReadH5(file, "model_weights/dense/dense/kernel:0"), ReadH5(file, "model_weights/dense/dense/bias:0").Data);
        KerasAssert.Close(y, KerasAssert.RunSingle(g, x), 1e-3, 1e-4);
    }

    [KerasSharedFact]
    public void MaskingLstm_IsRejectedAsUnsupportedLayer()
    {
        var e = Assert.Throws<ModelFormatException>(() => KerasReader.Load(KerasShared.Path("extra", "keras_team_mlx_branch_model.keras")));
        Assert.Contains("unsupported", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Masking", e.Message);
        Assert.Contains("LSTM", e.Message);
        Assert.Contains("keras_team_mlx_branch_model.keras", e.Message);
    }

    [KerasSharedFact]
    public void SubclassedModel_IsRejected()
    {
        var e = Assert.Throws<ModelFormatException>(() => KerasReader.Load(KerasShared.Path("extra", "keras_team_pre_pr22362_nested_container.keras")));
        Assert.Contains("NestedDenseModel", e.Message);
        Assert.Contains("subclassed", e.Message);
    }

    [KerasSharedFact]
    public void WeightsFileAlone_PointsToTheJsonOverload()
    {
        var e = Assert.Throws<ModelFormatException>(() => KerasReader.Load(KerasShared.Path("dl4j_dense_softmax", "simple_sparse_xent_mlp_keras_2_weights.h5")));
        Assert.Contains("save_weights", e.Message);
    }

    [KerasSharedFact]
    public void Limits_FileSizeAndNodeCount_AreEnforced()
    {
        string file = KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras");
        Assert.Contains("limit", Assert.Throws<ModelFormatException>(() => KerasReader.Load(file, new ReaderLimits { MaxFileBytes = 1000 })).Message);
        Assert.Contains("node limit", Assert.Throws<ModelFormatException>(() => KerasReader.Load(file, new ReaderLimits { MaxNodes = 5 })).Message);
        Assert.Contains("tensor limit", Assert.Throws<ModelFormatException>(() => KerasReader.Load(file, new ReaderLimits { MaxTensorBytes = 4096 })).Message);
    }
}
