using FastInfer.Formats;
using FastInfer.Formats.Keras;
using FastInfer.Runtime;
using FastInfer.Tests.Formats.Keras;
using PureHDF;
using StbImageSharp;
using Xunit;
using KTensor = FastInfer.Tests.Formats.Keras.Tensor;
using RTensor = FastInfer.Runtime.Tensor;

namespace FastInfer.Tests.Keras;

/// <summary>
/// Every real Keras file under shared/keras-models through the real runtime (<see cref="InferenceSession"/>), checked
/// against the outputs Keras itself wrote, or against an NHWC reference computed from the raw weights.
/// </summary>
public class KerasSharedRuntimeTests
{
    private static KTensor ReadH5(string file, string path)
    {
        using var h5 = H5File.OpenRead(file);
        var ds = h5.Dataset(path);
        var shape = ds.Space.Dimensions.Select(d => (long)d).ToArray();
        var data = ds.Type.Size == 8 ? ds.Read<double[]>().Select(v => (float)v).ToArray() : ds.Read<float[]>();
        return new KTensor(shape, data);
    }

    private static KTensor Digit(int digit)
    {
        using var s = File.OpenRead(KerasShared.Path("keras3_mnist_cnn", $"{digit}.png"));
        var img = ImageResult.FromStream(s, ColorComponents.Grey);
        Assert.Equal(28, img.Width);
        Assert.Equal(28, img.Height);
        return new KTensor([1, 28, 28, 1], img.Data.Select(b => b / 255f).ToArray());
    }

    [KerasSharedFact]
    public void Keras3MnistCnn_ClassifiesDigitsThroughInferenceSession()
    {
        string file = KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras");
        using var session = InferenceSession.Load(file);
        Assert.Equal("input_layer", Assert.Single(session.Inputs).Name);
        Assert.Equal("[batch,28,28,1]", KerasAssert.Shape(session.Inputs[0]));
        Assert.Equal("dense", Assert.Single(session.Outputs).Name);
        foreach (int digit in new[] { 1, 8 })
        {
            var p = KerasEngines.Run(session, new() { ["input_layer"] = Digit(digit) })["dense"];
            Assert.Equal([1L, 10], p.Shape);
            int best = Array.IndexOf(p.Data, p.Data.Max());
            Assert.Equal(digit, best);
            Assert.True(p.Data[best] > 0.99f, $"p({digit}) = {p.Data[best]}");
        }
    }

    [KerasSharedFact]
    public void Keras3MnistCnn_BatchOfTwoMatchesOnnxRuntimeOnTheExport()
    {
        string file = KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras");
        var x = new KTensor([2, 28, 28, 1], [.. Digit(1).Data, .. Digit(8).Data]);
        using var g = KerasReader.Load(file);
        var ort = KerasEngines.RunOrtOnExport(g, new() { ["input_layer"] = x })["dense"];
        var fast = KerasEngines.RunFastInfer(file, new() { ["input_layer"] = x }, threads: 2)!["dense"];
        KerasAssert.Close(ort, fast, 1e-3, 1e-5);
        Assert.Equal(1, Array.IndexOf(ort.Data, ort.Data[..10].Max()));
        Assert.Equal(8, Array.IndexOf(ort.Data[10..], ort.Data[10..].Max()));
    }

    [KerasSharedFact]
    public void Keras3MnistCnn_RunAllocatesNothingAfterTheFirstCall()
    {
        using var session = InferenceSession.Load(KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras"), new FastInfer.Runtime.SessionOptions { IntraOpThreads = 1 });
        var x = Digit(8);
        using var input = RTensor.FromArray(x.Data, 1, 28, 28, 1);
        using var output = RTensor.Allocate(FastInfer.Ir.DataType.Float, 1, 10);
        var inputs = new[] { new NamedTensor("input_layer", input) };
        var outputs = new[] { new NamedTensor("dense", output) };
        session.Run(inputs, outputs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) session.Run(inputs, outputs);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(output.AsSpan<float>()[8] > 0.99f);
    }

    [KerasSharedFact]
    public void CnnBatchNorm_MatchesKerasPredictionsThroughInferenceSession()
    {
        string dir = KerasShared.Path("dl4j_cnn_batch_norm");
        string file = Path.Combine(dir, "cnn_batch_norm.h5");
        var x = Npy.Read(Path.Combine(dir, "input.npy"));
        var expected = Npy.Read(Path.Combine(dir, "predictions.npy"));
        using var session = InferenceSession.Load(file);
        Assert.Equal("conv2d_1_input", session.Inputs[0].Name);
        Assert.Equal("dense_1", session.Outputs[0].Name);
        KerasAssert.Close(expected, KerasEngines.Run(session, new() { ["conv2d_1_input"] = x })["dense_1"], 1e-3, 1e-4, "FastInfer");
        Assert.True(KerasEngines.CheckFile(file, new() { ["conv2d_1_input"] = x }, new() { ["dense_1"] = expected }));
    }

    [KerasSharedFact]
    public void DenseSoftmax_FullModelAndJsonWeightsPair_MatchKerasOutputsThroughInferenceSession()
    {
        string dir = KerasShared.Path("dl4j_dense_softmax");
        string io = Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_inputs_and_outputs.h5");
        var x = ReadH5(io, "inputs/dense_1_input");
        var expected = ReadH5(io, "outputs/activation_1");
        using var full = InferenceSession.Load(Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_model.h5"));
        using var pair = InferenceSession.Create(KerasReader.Load(Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_config.json"),
            Path.Combine(dir, "simple_sparse_xent_mlp_keras_2_weights.h5")));
        foreach (var s in new[] { full, pair })
        {
            Assert.Equal("dense_1_input", s.Inputs[0].Name);
            Assert.Equal("activation_1", s.Outputs[0].Name);
            KerasAssert.Close(expected, KerasEngines.Run(s, new() { ["dense_1_input"] = x })["activation_1"], 1e-3, 1e-4);
        }
    }

    [KerasSharedFact]
    public void Keras1Conv2dReshape_LoadsWithLayersAndWeightShapes_AndMatchesNhwcReference()
    {
        string file = KerasShared.Path("dl4j_keras1_conv2d_reshape", "conv2d_reshape_tensorflow_1.h5");
        string W(string layer, string suffix) => $"model_weights/{layer}/{layer}_{suffix}:0";
        using (var h5 = H5File.OpenRead(file))
        {
            // The file's own layer list and weight shapes (HWIO kernels, Keras 1 names).
            Assert.Equal(["convolution2d_1", "reshape_1", "convolution2d_2", "flatten_1", "dense_1"],
                h5.Group("model_weights").Attribute("layer_names").Read<string[]>().Select(n => n.TrimEnd('\0')).ToArray());
        }
        Assert.Equal([3L, 2, 5, 6], ReadH5(file, W("convolution2d_1", "W")).Shape);
        Assert.Equal([1L, 1, 6, 6], ReadH5(file, W("convolution2d_2", "W")).Shape);
        Assert.Equal([72L, 12], ReadH5(file, W("dense_1", "W")).Shape);

        using var session = InferenceSession.Load(file);
        Assert.Equal("[batch,5,5,5]", KerasAssert.Shape(session.Inputs[0]));
        Assert.Equal("[batch,12]", KerasAssert.Shape(session.Outputs[0]));
        var x = KerasAssert.Random(new Random(7), 2, 5, 5, 5);
        var y = KerasReference.Conv2D(x, ReadH5(file, W("convolution2d_1", "W")), ReadH5(file, W("convolution2d_1", "b")).Data, 1, 1, 1, 1, "valid");
        y = KerasReference.Reshape(y, 4, 3, 6);
        y = KerasReference.Conv2D(y, ReadH5(file, W("convolution2d_2", "W")), ReadH5(file, W("convolution2d_2", "b")).Data, 1, 1, 1, 1, "valid");
        y = KerasReference.Dense(KerasReference.Flatten(y), ReadH5(file, W("dense_1", "W")), ReadH5(file, W("dense_1", "b")).Data);
        KerasAssert.Close(y, KerasEngines.Run(session, new() { ["convolution2d_1_input"] = x })["dense_1"], 1e-3, 1e-4);
        Assert.True(KerasEngines.CheckFile(file, new() { ["convolution2d_1_input"] = x }, new() { ["dense_1"] = y }));
    }

    [KerasSharedFact]
    public void TfKeras24Flatten3d_LoadsWithLayersAndWeightShapes_AndMatchesNhwcReference()
    {
        string file = KerasShared.Path("dl4j_tfkeras24_flatten_3d", "flatten_3d.hdf5");
        Assert.Equal([1000L, 10], ReadH5(file, "model_weights/dense/dense/kernel:0").Shape);
        Assert.Equal([10L], ReadH5(file, "model_weights/dense/dense/bias:0").Shape);
        using var session = InferenceSession.Load(file);
        Assert.Equal("input_1", session.Inputs[0].Name);
        Assert.Equal("[batch,10,10,10,1]", KerasAssert.Shape(session.Inputs[0]));
        Assert.Equal("dense", session.Outputs[0].Name);
        var x = KerasAssert.Random(new Random(3), 2, 10, 10, 10, 1);
        var y = KerasReference.Dense(KerasReference.Flatten(x), ReadH5(file, "model_weights/dense/dense/kernel:0"), ReadH5(file, "model_weights/dense/dense/bias:0").Data);
        KerasAssert.Close(y, KerasEngines.Run(session, new() { ["input_1"] = x })["dense"], 1e-3, 1e-4);
    }

    [KerasSharedFact]
    public void Keras3MnistCnn_LayerListAndWeightShapesFromTheFile()
    {
        using var g = KerasReader.Load(KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras"));
        Assert.Equal("Sequential", g.Metadata["keras_model_class"]);
        Assert.Equal([32, 1, 3, 3], KerasAssert.Dims(g, "conv2d/kernel"));
        Assert.Equal([32], KerasAssert.Dims(g, "conv2d/bias"));
        Assert.Equal([64, 32, 3, 3], KerasAssert.Dims(g, "conv2d_1/kernel"));
        Assert.Equal([64], KerasAssert.Dims(g, "conv2d_1/bias"));
        Assert.Equal([1600, 10], KerasAssert.Dims(g, "dense/kernel_chw"));
        Assert.Equal([10], KerasAssert.Dims(g, "dense/bias"));
    }

    [KerasSharedFact]
    public void ExtraFiles_FailThroughInferenceSessionNamingLayerAndClass()
    {
        var e = Assert.Throws<ModelFormatException>(() => InferenceSession.Load(KerasShared.Path("extra", "keras_team_mlx_branch_model.keras")).Dispose());
        Assert.Contains("unsupported", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("(Masking)", e.Message);
        Assert.Contains("(LSTM)", e.Message);
        Assert.Contains("keras_team_mlx_branch_model.keras", e.Message);

        e = Assert.Throws<ModelFormatException>(() => InferenceSession.Load(KerasShared.Path("extra", "keras_team_pre_pr22362_nested_container.keras")).Dispose());
        Assert.Contains("NestedDenseModel", e.Message);
        Assert.Contains("subclassed", e.Message);
    }
}
