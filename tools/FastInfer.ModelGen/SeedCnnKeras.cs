using System.Text.Json;
using PureHDF;

namespace FastInfer.ModelGen;

/// <summary>
/// The seed CNN as the seed article builds it in Keras, saved as a legacy full-model HDF5 file (<c>model.save("x.h5")</c>
/// layout: a <c>model_config</c> JSON attribute and <c>model_weights/&lt;layer&gt;/&lt;layer&gt;/kernel:0</c> datasets),
/// channels-last: Conv2D(32, 3×3, relu) → MaxPooling2D(2) → Flatten → Dense(128, relu) → Dense(10, softmax). Used to
/// measure loading a 4 GB Keras file; its weights are seeded like <see cref="SeedCnnModel"/>'s but laid out as Keras
/// keeps them (HWIO kernels, rows of the Dense kernel in height-width-channel order), so the two models differ.
/// </summary>
public static class SeedCnnKeras
{
    public static void Write(string path, int height, int width, int channels, ulong seed)
    {
        long flat = SeedCnnModel.FlatSize(height, width);
        ulong stream = seed * 16 + 100;
        float[] Weights(long count, float scale)
        {
            var w = new float[count];
            new SeededWeights(stream++).Fill(w, scale);
            return w;
        }
        var layers = new (string Name, string Class, Dictionary<string, object?> Config, (string Name, float[]? Data, ulong[] Dims)[] Weights)[]
        {
            ("conv2d", "Conv2D", new() { ["batch_input_shape"] = new object?[] { null, height, width, channels }, ["filters"] = SeedCnnModel.Filters,
                ["kernel_size"] = new[] { 3, 3 }, ["strides"] = new[] { 1, 1 }, ["padding"] = "valid", ["dilation_rate"] = new[] { 1, 1 },
                ["activation"] = "relu", ["use_bias"] = true, ["data_format"] = "channels_last" },
                [("kernel", Weights(9L * channels * SeedCnnModel.Filters, MathF.Sqrt(2f / (channels * 9))), [3, 3, (ulong)channels, SeedCnnModel.Filters]),
                 ("bias", Weights(SeedCnnModel.Filters, 0.1f), [SeedCnnModel.Filters])]),
            ("max_pooling2d", "MaxPooling2D", new() { ["pool_size"] = new[] { 2, 2 }, ["strides"] = new[] { 2, 2 }, ["padding"] = "valid" }, []),
            ("flatten", "Flatten", new(), []),
            ("dense", "Dense", new() { ["units"] = SeedCnnModel.Hidden, ["activation"] = "relu", ["use_bias"] = true },
                [("kernel", null!, [(ulong)flat, SeedCnnModel.Hidden]), // 4 GB at full size: written in slices below
                 ("bias", Weights(SeedCnnModel.Hidden, 0.1f), [SeedCnnModel.Hidden])]),
            ("dense_1", "Dense", new() { ["units"] = SeedCnnModel.Classes, ["activation"] = "softmax", ["use_bias"] = true },
                [("kernel", Weights(SeedCnnModel.Hidden * SeedCnnModel.Classes, MathF.Sqrt(2f / SeedCnnModel.Hidden)), [SeedCnnModel.Hidden, SeedCnnModel.Classes]),
                 ("bias", Weights(SeedCnnModel.Classes, 0.1f), [SeedCnnModel.Classes])]),
        };
        string config = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["class_name"] = "Sequential",
            ["config"] = new Dictionary<string, object?>
            {
                ["name"] = "sequential",
                ["layers"] = layers.Select(l => new Dictionary<string, object?>
                {
                    ["class_name"] = l.Class, ["config"] = new Dictionary<string, object?>(l.Config) { ["name"] = l.Name },
                }).ToArray(),
            },
        });
        H5Dataset<float[]>? bigKernel = null;
        var modelWeights = new H5Group();
        modelWeights.Attributes["layer_names"] = layers.Select(l => l.Name).ToArray();
        modelWeights.Attributes["keras_version"] = "2.15.0";
        modelWeights.Attributes["backend"] = "tensorflow";
        foreach (var l in layers)
        {
            var group = new H5Group();
            if (l.Weights.Length == 0) group.Attributes["weight_names"] = Array.Empty<double>();
            else
            {
                group.Attributes["weight_names"] = l.Weights.Select(w => $"{l.Name}/{w.Name}:0").ToArray();
                var inner = new H5Group();
                foreach (var w in l.Weights)
                    inner[w.Name + ":0"] = w.Data is null ? bigKernel = new H5Dataset<float[]>(fileDims: w.Dims) : new H5Dataset(w.Data, fileDims: w.Dims);
                group[l.Name] = inner;
            }
            modelWeights[l.Name] = group;
        }
        var file = new H5File { ["model_weights"] = modelWeights };
        file.Attributes["model_config"] = config;
        file.Attributes["keras_version"] = "2.15.0";
        file.Attributes["backend"] = "tensorflow";
        // Deferred writing in slices of rows: PureHDF overflows on a single array past 2 GB, and the slices keep the
        // writer's memory small.
        using var writer = file.BeginWrite(path);
        var random = new SeededWeights(stream);
        float scale = MathF.Sqrt(2f / flat);
        const long SliceRows = 1 << 18;
        var slice = new float[SliceRows * SeedCnnModel.Hidden];
        for (long r0 = 0; r0 < flat; r0 += SliceRows)
        {
            long rows = Math.Min(SliceRows, flat - r0);
            var part = rows == SliceRows ? slice : new float[rows * SeedCnnModel.Hidden];
            random.Fill(part, scale);
            writer.Write(bigKernel!, part, fileSelection: new PureHDF.Selections.HyperslabSelection(2, [(ulong)r0, 0], [(ulong)rows, SeedCnnModel.Hidden]));
        }
    }
}
