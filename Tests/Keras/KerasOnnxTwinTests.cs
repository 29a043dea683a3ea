using FastInfer.Formats.Keras;
using FastInfer.Formats.Onnx;
using FastInfer.Runtime;
using FastInfer.Tests.Formats.Keras;
using FastInfer.Tests.Support;
using Google.Protobuf;
using Xunit;
using static FastInfer.Tests.Formats.Keras.SyntheticKerasFiles;
using Pb = global::Onnx;
using T = FastInfer.Tests.Formats.Keras.Tensor;

namespace FastInfer.Tests.Keras;

/// <summary>
/// Keras models against the same network written by hand in ONNX (Google's protobuf classes) and run by ONNX
/// Runtime; and the optimized Keras graph against the optimized graph of its ONNX export (no slower path for Keras).
/// </summary>
public sealed class KerasOnnxTwinTests : IDisposable
{
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var f in _files) File.Delete(f);
    }

    [Fact]
    public void KerasCnn_MatchesHandWrittenOnnxTwinInOnnxRuntime()
    {
        var rng = new Random(77);
        T W(params long[] shape) => R(KerasAssert.Random(rng, shape), 0.5f);
        var k = W(3, 3, 2, 3); var b = W(3); var kd = W(3 * 2 * 3, 4); var bd = W(4);
        SynthLayer[] layers =
        [
            new("conv", "Conv2D", Cfg(("batch_input_shape", new object?[] { null, 6, 5, 2 }), ("filters", 3), ("kernel_size", new[] { 3, 3 }), ("padding", "same"), ("activation", "relu")),
                [("kernel", k), ("bias", b)]),
            new("pool", "MaxPooling2D", Cfg(("pool_size", new[] { 2, 2 }))),
            new("flat", "Flatten", Cfg()),
            new("dense", "Dense", Cfg(("units", 4), ("activation", "softmax")), [("kernel", kd), ("bias", bd)]),
        ];
        string path = TempPath(".h5");
        _files.Add(path);
        WriteLegacy(path, SequentialConfig(layers), layers, "2.3.1");

        // The twin: NHWC in, NCHW convolution with the kernel rearranged here (HWIO → OIHW), back to NHWC before the
        // Flatten so the Dense kernel is used exactly as Keras stores it.
        var oihw = new float[k.Data.Length];
        for (int h = 0; h < 3; h++) for (int w = 0; w < 3; w++) for (int i = 0; i < 2; i++) for (int o = 0; o < 3; o++)
            oihw[((o * 2 + i) * 3 + h) * 3 + w] = k.Data[((h * 3 + w) * 2 + i) * 3 + o];
        var g = new Pb.GraphProto { Name = "twin" };
        g.Input.Add(SeedCnn.Value("x", 2, 6, 5, 2));
        g.Output.Add(SeedCnn.Value("y", 2, 4));
        g.Initializer.Add(SeedCnn.Tensor("w", [3, 2, 3, 3], oihw));
        g.Initializer.Add(SeedCnn.Tensor("b", [3], b.Data));
        g.Initializer.Add(SeedCnn.Tensor("kd", [18, 4], kd.Data));
        g.Initializer.Add(SeedCnn.Tensor("bd", [4], bd.Data));
        g.Node.Add(SeedCnn.Node("Transpose", ["x"], "x_nchw", ("perm", new long[] { 0, 3, 1, 2 })));
        g.Node.Add(SeedCnn.Node("Conv", ["x_nchw", "w", "b"], "c", ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 })));
        g.Node.Add(SeedCnn.Node("Relu", ["c"], "r"));
        g.Node.Add(SeedCnn.Node("MaxPool", ["r"], "p", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })));
        g.Node.Add(SeedCnn.Node("Transpose", ["p"], "p_nhwc", ("perm", new long[] { 0, 2, 3, 1 })));
        g.Node.Add(SeedCnn.Node("Flatten", ["p_nhwc"], "f"));
        g.Node.Add(SeedCnn.Node("Gemm", ["f", "kd", "bd"], "logits"));
        g.Node.Add(SeedCnn.Node("Softmax", ["logits"], "y", ("axis", 1L)));
        var model = new Pb.ModelProto { IrVersion = 8, Graph = g, ProducerName = "fastinfer-tests" };
        model.OpsetImport.Add(new Pb.OperatorSetIdProto { Domain = "", Version = 17 });

        var x = KerasAssert.Random(rng, 2, 6, 5, 2);
        var ort = OrtOracle.Run(model.ToByteArray(), [("x", x.Data, [2, 6, 5, 2])])["y"];
        var fast = KerasEngines.RunFastInfer(path, new() { ["conv_input"] = x })!["dense"];
        KerasAssert.Close(new T([2, 4], ort.Data), fast, 1e-3, 1e-5, "FastInfer on the Keras file vs ONNX Runtime on the hand-written twin");
    }

    private static T R(T t, float scale)
    {
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] *= scale;
        return t;
    }

    /// <summary>
    /// The runtime's graph passes see through the Keras edges: the optimized Keras graph is the same, op for op and
    /// fusion for fusion, as the optimized graph of its ONNX export — so a Keras file runs exactly the plan an
    /// ONNX file of the same network runs.
    /// </summary>
    [KerasSharedFact]
    public void OptimizedKerasGraph_IsTheOptimizedGraphOfItsOnnxExport()
    {
        foreach (var file in new[]
        {
            KerasShared.Path("keras3_mnist_cnn", "mnist_model.keras"),
            KerasShared.Path("dl4j_cnn_batch_norm", "cnn_batch_norm.h5"),
            KerasShared.Path("dl4j_keras1_conv2d_reshape", "conv2d_reshape_tensorflow_1.h5"),
        })
        {
            string onnx = TempPath(".onnx");
            _files.Add(onnx);
            using (var g = KerasReader.Load(file)) OnnxWriter.Save(g, onnx);
            using var keras = InferenceSession.Load(file);
            using var twin = InferenceSession.Load(onnx);
            static string Describe(InferenceSession s) => string.Join(" ", s.Graph.Nodes.Select(n =>
                n.OpType + "[" + string.Join(",", n.Attributes.Keys.Order(StringComparer.Ordinal)) + "]"));
            Assert.Equal(Describe(twin), Describe(keras));
            Assert.DoesNotContain(keras.Graph.Nodes, n => n.OpType is "Relu" or "BatchNormalization"); // fused / folded
        }
    }
}
