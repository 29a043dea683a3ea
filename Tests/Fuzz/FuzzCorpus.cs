using System.IO.Compression;
using FastInfer.Tests.Concurrency;
using FastInfer.Tests.Formats.Keras;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Google.Protobuf;
using Pb = global::Onnx;
using DT = global::Onnx.TensorProto.Types.DataType;

namespace FastInfer.Tests.Fuzz;

/// <summary>
/// Small valid inputs the mutations start from: ONNX models and tensors written with Google's protobuf classes, the
/// smallest real Keras files in shared/keras-models, and tiny images. Regression inputs saved under
/// Tests/Fuzz/corpus/&lt;target&gt;/ are replayed separately (<see cref="RegressionFiles"/>).
/// </summary>
internal static class FuzzCorpus
{
    /// <summary>Models the runtime can plan (no If): the reader-and-planner target starts from these.</summary>
    public static IReadOnlyList<(string, byte[])> OnnxRunnable() =>
    [
        ("small-conv", PbBuild.SmallConv().ToByteArray()),
        ("seed-cnn-8x8", SeedCnn.Build(8, 8, 1, filters: 2, hidden: 4, classes: 3)),
        ("matmul-softmax", ConcurrencyModels.MatMulSoftmax(6, 4, seed: 3)),
    ];

    public static IReadOnlyList<(string, byte[])> Onnx() =>
    [
        ("small-conv", PbBuild.SmallConv().ToByteArray()),
        ("small-if", PbBuild.SmallIf().ToByteArray()),
        ("small-mixed", PbBuild.SmallMixed().ToByteArray()),
        ("full", OnnxReaderTests.FullModel().ToByteArray()),
        ("seed-cnn-8x8", SeedCnn.Build(8, 8, 1, filters: 2, hidden: 4, classes: 3)),
        ("matmul-softmax", ConcurrencyModels.MatMulSoftmax(6, 4, seed: 3)),
        ("nested-if-6", NestedIf(6).ToByteArray()),
    ];

    /// <summary>If nodes nested <paramref name="depth"/> deep: mutations of the nesting reach the depth limit.</summary>
    private static Pb.ModelProto NestedIf(int depth)
    {
        Pb.GraphProto Nest(int d)
        {
            var g = new Pb.GraphProto { Name = $"g{d}" };
            g.Output.Add(PbBuild.Value($"y{d}", DT.Float, 1));
            var n = new Pb.NodeProto { Name = $"if{d}", OpType = "If", Input = { "c" }, Output = { $"y{d}" } };
            if (d > 0)
            {
                n.Attribute.Add(new Pb.AttributeProto { Name = "then_branch", Type = Pb.AttributeProto.Types.AttributeType.Graph, G = Nest(d - 1) });
                n.Attribute.Add(new Pb.AttributeProto { Name = "else_branch", Type = Pb.AttributeProto.Types.AttributeType.Graph, G = Nest(d - 1) });
            }
            g.Node.Add(n);
            return g;
        }
        var root = Nest(depth);
        root.Input.Add(PbBuild.Value("c", DT.Bool));
        return PbBuild.Model(root);
    }

    public static IReadOnlyList<(string, byte[])> OnnxTensors()
    {
        Pb.TensorProto T(string name, DT type, long[] dims, Action<Pb.TensorProto> fill)
        {
            var t = new Pb.TensorProto { Name = name, DataType = (int)type };
            t.Dims.AddRange(dims);
            fill(t);
            return t;
        }
        return
        [
            ("float-raw", PbBuild.Raw("w", DT.Float, [2, 3], new[] { 1f, 2f, 3f, 4f, 5f, 6f }).ToByteArray()),
            ("float-data", T("f", DT.Float, [4], t => t.FloatData.AddRange([0.5f, -1f, 2f, 3f])).ToByteArray()),
            ("int64-data", T("i", DT.Int64, [2, 2], t => t.Int64Data.AddRange([1, -2, 1L << 40, 7])).ToByteArray()),
            ("int32-as-int8", T("b", DT.Int8, [3], t => t.Int32Data.AddRange([-1, 0, 127])).ToByteArray()),
            ("double-data", T("d", DT.Double, [2], t => t.DoubleData.AddRange([1.5, -2.25])).ToByteArray()),
            ("strings", T("s", DT.String, [2], t => t.StringData.AddRange([ByteString.CopyFromUtf8("ab"), ByteString.CopyFromUtf8("")])).ToByteArray()),
            ("half-raw", PbBuild.Raw("h", DT.Float16, [2, 2], new[] { (Half)1, (Half)(-2), (Half)0.5, (Half)3 }).ToByteArray()),
            ("bool-scalar", T("c", DT.Bool, [], t => t.Int32Data.Add(1)).ToByteArray()),
        ];
    }

    public static IReadOnlyList<(string, byte[])> KerasH5() => SharedFiles(
        ("dl4j_dense_softmax", "simple_sparse_xent_mlp_keras_2_model.h5"),
        ("dl4j_keras1_conv2d_reshape", "conv2d_reshape_tensorflow_1.h5"),
        ("dl4j_cnn_batch_norm", "cnn_batch_norm.h5"));

    /// <summary>A small synthetic Keras 3 zip (Input → Dense(3, relu) → Dense(2, sigmoid)): a few KB, so mutations hit structure.</summary>
    public static IReadOnlyList<(string, byte[])> KerasZip() => [("synthetic-dense.keras", SyntheticKerasZip())];

    /// <summary>
    /// The synthetic zip; the real Keras 3 MNIST CNN (440 KB of weights, ~150 ms a case) joins only when
    /// FASTINFER_FUZZ_SCALE asks for a longer run.
    /// </summary>
    public static IReadOnlyList<(string, byte[])> KerasConfig()
    {
        var list = new List<(string, byte[])>(KerasZip());
        if (FuzzRunner.Scale > 1) list.AddRange(SharedFiles(("keras3_mnist_cnn", "mnist_model.keras")));
        return list;
    }

    private static byte[] SyntheticKerasZip()
    {
        var rng = new Random(5);
        Tensor W(params long[] shape)
        {
            var t = new Tensor(shape);
            for (int i = 0; i < t.Data.Length; i++) t.Data[i] = (float)(rng.NextDouble() - 0.5);
            return t;
        }
        static object T(string layer, int width) => new Dictionary<string, object?>
        {
            ["class_name"] = "__keras_tensor__",
            ["config"] = new Dictionary<string, object?> { ["shape"] = new object?[] { null, width }, ["dtype"] = "float32", ["keras_history"] = new object[] { layer, 0, 0 } },
        };
        static object Node(object arg) => new object[] { new Dictionary<string, object?> { ["args"] = new[] { arg }, ["kwargs"] = new Dictionary<string, object>() } };
        static Dictionary<string, object?> L(string cls, string name, Dictionary<string, object?> cfg, object inbound)
        {
            cfg["name"] = name;
            cfg["dtype"] = "float32";
            return new() { ["module"] = "keras.layers", ["class_name"] = cls, ["config"] = cfg, ["registered_name"] = null, ["name"] = name, ["inbound_nodes"] = inbound };
        }
        var layers = new object[]
        {
            L("InputLayer", "input_layer", SyntheticKerasFiles.Cfg(("batch_shape", new object?[] { null, 4 }), ("sparse", false)), Array.Empty<object>()),
            L("Dense", "da", SyntheticKerasFiles.Cfg(("units", 3), ("activation", "relu"), ("use_bias", true)), Node(T("input_layer", 4))),
            L("Dense", "db", SyntheticKerasFiles.Cfg(("units", 2), ("activation", "sigmoid"), ("use_bias", true)), Node(T("da", 3))),
        };
        string config = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["module"] = "keras.src.models.functional", ["class_name"] = "Functional", ["registered_name"] = "Functional",
            ["config"] = new Dictionary<string, object?> { ["name"] = "functional", ["layers"] = layers, ["input_layers"] = new object[] { "input_layer", 0, 0 }, ["output_layers"] = new object[] { "db", 0, 0 } },
        });
        string path = SyntheticKerasFiles.TempPath(".keras");
        try
        {
            SyntheticKerasFiles.WriteKeras3Zip(path, config, [("dense", [W(4, 3), W(3)]), ("dense_1", [W(3, 2), W(2)])]);
            return File.ReadAllBytes(path);
        }
        finally { File.Delete(path); }
    }

    public static IReadOnlyList<(string, byte[])> Images()
    {
        var list = new List<(string, byte[])>(SharedFiles(("keras3_mnist_cnn", "1.png"), ("keras3_mnist_cnn", "8.png")));
        list.Add(("bmp-3x2", Bmp24(3, 2)));
        return list;
    }

    /// <summary>An uncompressed 24-bit BMP, written by hand (its header is all little-endian sizes and offsets).</summary>
    private static byte[] Bmp24(int width, int height)
    {
        int row = (width * 3 + 3) / 4 * 4, size = 54 + row * height;
        var b = new byte[size];
        void U16(int at, int v) { b[at] = (byte)v; b[at + 1] = (byte)(v >> 8); }
        void U32(int at, int v) { U16(at, v & 0xFFFF); U16(at + 2, (v >> 16) & 0xFFFF); }
        b[0] = (byte)'B'; b[1] = (byte)'M';
        U32(2, size); U32(10, 54); U32(14, 40); U32(18, width); U32(22, height); U16(26, 1); U16(28, 24); U32(34, row * height);
        for (int i = 54; i < size; i++) b[i] = (byte)(i * 37);
        return b;
    }

    private static IReadOnlyList<(string, byte[])> SharedFiles(params (string Folder, string File)[] files)
    {
        if (KerasShared.Root is null) return [];
        var list = new List<(string, byte[])>();
        foreach (var (folder, file) in files)
        {
            string path = KerasShared.Path(folder, file);
            if (File.Exists(path)) list.Add((file, File.ReadAllBytes(path)));
        }
        return list;
    }

    /// <summary>Mutates config.json inside a .keras zip and zips it again, so the mutation reaches the JSON and the converter.</summary>
    public static byte[] MutateKerasConfig(byte[] zipBytes, Random random)
    {
        var entries = new List<(string Name, byte[] Data)>();
        using (var zip = new ZipArchive(new MemoryStream(zipBytes, writable: false), ZipArchiveMode.Read))
        {
            foreach (var e in zip.Entries)
            {
                using var s = e.Open();
                var buffer = new MemoryStream();
                s.CopyTo(buffer);
                entries.Add((e.FullName, buffer.ToArray()));
            }
        }
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                byte[] bytes = name == "config.json" ? Mutator.MutateText(data, random) : data;
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(bytes);
            }
        }
        return output.ToArray();
    }

    /// <summary>Saved inputs that once broke a reader: Tests/Fuzz/corpus/&lt;target&gt;/*, found above the test binaries.</summary>
    public static IEnumerable<string> RegressionFiles(string target)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string folder = Path.Combine(dir.FullName, "Tests", "Fuzz", "corpus", target);
            if (Directory.Exists(Path.Combine(dir.FullName, "Tests", "Fuzz", "corpus")))
                return Directory.Exists(folder) ? Directory.GetFiles(folder).Order(StringComparer.Ordinal) : [];
        }
        return [];
    }
}
