using System.IO.Compression;
using System.Text.Json;
using PureHDF;

namespace FastInfer.Tests.Formats.Keras;

/// <summary>One layer of a synthetic model: its JSON entry and its weights in Keras order.</summary>
public sealed record SynthLayer(string Name, string ClassName, Dictionary<string, object?> Config, (string Name, Tensor Value)[]? WeightsOrNull = null, object? Inbound = null)
{
    public (string Name, Tensor Value)[] Weights => WeightsOrNull ?? [];
}

/// <summary>Writes small Keras-layout model files with PureHDF's writer, for layers the shared files do not cover.</summary>
public static class SyntheticKerasFiles
{
    public static Dictionary<string, object?> Cfg(params (string Key, object? Value)[] items)
    {
        var d = new Dictionary<string, object?>();
        foreach (var (k, v) in items) d[k] = v;
        return d;
    }

    public static string TempPath(string ext) => Path.Combine(Path.GetTempPath(), $"fastinfer_keras_{Guid.NewGuid():N}{ext}");

    private static object LayerJson(SynthLayer l, bool functional)
    {
        var cfg = new Dictionary<string, object?>(l.Config) { ["name"] = l.Name };
        var entry = new Dictionary<string, object?> { ["class_name"] = l.ClassName, ["config"] = cfg };
        if (functional) { entry["name"] = l.Name; entry["inbound_nodes"] = l.Inbound ?? Array.Empty<object>(); }
        return entry;
    }

    public static string SequentialConfig(IEnumerable<SynthLayer> layers) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["class_name"] = "Sequential",
        ["config"] = new Dictionary<string, object?> { ["name"] = "sequential", ["layers"] = layers.Select(l => LayerJson(l, false)).ToArray() },
    });

    public static string FunctionalConfig(IEnumerable<SynthLayer> layers, object inputs, object outputs, string cls = "Model") => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["class_name"] = cls,
        ["config"] = new Dictionary<string, object?>
        {
            ["name"] = "model", ["layers"] = layers.Select(l => LayerJson(l, true)).ToArray(),
            ["input_layers"] = inputs, ["output_layers"] = outputs,
        },
    });

    /// <summary>
    /// A legacy full-model HDF5 file. <paramref name="keras3Names"/> writes Keras 3's flat <c>kernel</c> names;
    /// otherwise Keras 2's <c>layer/kernel:0</c> in a nested group.
    /// </summary>
    public static void WriteLegacy(string path, string modelConfig, IReadOnlyList<SynthLayer> layers, string kerasVersion, bool keras3Names = false, string dtype = "float32")
    {
        var mw = new H5Group();
        mw.Attributes["layer_names"] = layers.Select(l => l.Name).ToArray();
        mw.Attributes["keras_version"] = kerasVersion;
        mw.Attributes["backend"] = "tensorflow";
        foreach (var l in layers)
        {
            var g = new H5Group();
            if (l.Weights.Length == 0) g.Attributes["weight_names"] = Array.Empty<double>();
            else if (keras3Names)
            {
                g.Attributes["weight_names"] = l.Weights.Select(w => w.Name).ToArray();
                foreach (var w in l.Weights) g[w.Name] = Dataset(w.Value, dtype);
            }
            else
            {
                g.Attributes["weight_names"] = l.Weights.Select(w => $"{l.Name}/{w.Name}:0").ToArray();
                var inner = new H5Group();
                foreach (var w in l.Weights) inner[w.Name + ":0"] = Dataset(w.Value, dtype);
                g[l.Name] = inner;
            }
            mw[l.Name] = g;
        }
        var file = new H5File { ["model_weights"] = mw };
        file.Attributes["model_config"] = modelConfig;
        file.Attributes["keras_version"] = kerasVersion;
        file.Attributes["backend"] = "tensorflow";
        file.Write(path);
    }

    private static H5Dataset Dataset(Tensor t, string dtype = "float32")
    {
        var dims = t.Shape.Select(d => (ulong)d).ToArray();
        return dtype switch
        {
            "float64" => new H5Dataset(t.Data.Select(v => (double)v).ToArray(), fileDims: dims),
            "float16" => new H5Dataset(t.Data.Select(v => (Half)v).ToArray(), fileDims: dims),
            _ => new H5Dataset(t.Data, fileDims: dims),
        };
    }

    /// <summary>A Keras 3 <c>.keras</c> zip (deflated entries) with <c>layers/&lt;snake&gt;[_N]/vars/i</c> weights.</summary>
    public static void WriteKeras3Zip(string path, string configJson, IReadOnlyList<(string Key, Tensor[] Vars)> weights, string version = "3.4.1")
    {
        string h5 = TempPath(".h5");
        try
        {
            var layersGroup = new H5Group();
            foreach (var (key, vars) in weights)
            {
                var v = new H5Group();
                for (int i = 0; i < vars.Length; i++) v[i.ToString()] = Dataset(vars[i]);
                layersGroup[key] = new H5Group { ["vars"] = v };
            }
            new H5File { ["layers"] = layersGroup, ["vars"] = new H5Group() }.Write(h5);
            using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
            void Text(string name, string text)
            {
                using var w = new StreamWriter(zip.CreateEntry(name, CompressionLevel.Optimal).Open());
                w.Write(text);
            }
            Text("metadata.json", $"{{\"keras_version\": \"{version}\", \"date_saved\": \"2025-01-01@00:00:00\"}}");
            Text("config.json", configJson);
            zip.CreateEntryFromFile(h5, "model.weights.h5", CompressionLevel.Optimal);
        }
        finally { File.Delete(h5); }
    }
}
