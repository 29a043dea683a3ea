using System.Text.Json;
using FastInfer.Ir;
using PureHDF;
using PureHDF.VOL.Native;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Reads Keras models — legacy HDF5 full models (Keras 1, 2, tf.keras, Keras 3's .h5 writer), Keras 3 <c>.keras</c>
/// zips, and <c>to_json()</c> + <c>save_weights()</c> pairs — into a <see cref="ModelGraph"/> of ONNX operators
/// (opset 17). Public inputs and outputs keep Keras' channels_last shapes; convolutions run channels-first inside.
/// </summary>
public static class KerasReader
{
    private static ReadOnlySpan<byte> HdfMagic => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];
    private static ReadOnlySpan<byte> ZipMagic => [(byte)'P', (byte)'K', 3, 4];

    /// <summary>Loads a full model file: legacy HDF5 (root attribute <c>model_config</c>) or a Keras 3 zip, by magic bytes.</summary>
    public static ModelGraph Load(string path, ReaderLimits? limits = null)
    {
        limits ??= ReaderLimits.Default;
        var kind = Sniff(path, limits);
        return kind switch
        {
            ContainerKind.Zip => KerasZip.Load(path, limits),
            ContainerKind.Hdf5 => LoadLegacy(path, limits),
            _ => throw new ModelFormatException("not a Keras model: neither HDF5 nor zip magic bytes", path),
        };
    }

    /// <summary>Loads a <c>to_json()</c> architecture with a <c>save_weights()</c> HDF5 file (legacy or Keras 3 layout).</summary>
    public static ModelGraph Load(string architectureJsonPath, string weightsH5Path, ReaderLimits? limits = null)
    {
        limits ??= ReaderLimits.Default;
        CheckFile(architectureJsonPath, limits);
        if (Sniff(weightsH5Path, limits) != ContainerKind.Hdf5)
            throw new ModelFormatException("the weights file is not HDF5", weightsH5Path);
        string json;
        try { json = File.ReadAllText(architectureJsonPath); }
        catch (IOException e) { throw new ModelFormatException($"cannot read the architecture: {e.Message}", architectureJsonPath, inner: e); }
        using var doc = ParseJson(json, architectureJsonPath, "architecture JSON");
        string? version = KerasJson.Str(doc.RootElement, "keras_version");
        using var h5 = OpenHdf5(weightsH5Path);
        IH5Group root = h5;
        if (KerasHdf5.TryGetGroup(h5, "model_weights", out var mw)) root = mw;
        version ??= KerasHdf5.ReadStringAttribute(root, "keras_version");
        return Build(doc.RootElement, weightsH5Path, limits, version, (model, file) =>
            KerasHdf5.HasAttribute(root, "layer_names")
                ? new LegacyWeightSource(root, limits, file)
                : KerasHdf5.TryGetGroup(root, "layers", out _)
                    ? new Keras3WeightSource(root, model.ModelLayers, limits, file)
                    : throw new ModelFormatException("the weights file has neither 'layer_names' nor a Keras 3 'layers' group", file));
    }

    private static ModelGraph LoadLegacy(string path, ReaderLimits limits)
    {
        using var h5 = OpenHdf5(path);
        string config = KerasHdf5.ReadStringAttribute(h5, "model_config")
            ?? throw new ModelFormatException(
                KerasHdf5.HasAttribute(h5, "layer_names")
                    ? "this is a save_weights() file with no architecture; load it with Load(architectureJsonPath, weightsPath)"
                    : "the HDF5 file has no 'model_config' attribute; it is not a Keras full-model file", path, "/");
        using var doc = ParseJson(config, path, "model_config");
        string? version = KerasHdf5.ReadStringAttribute(h5, "keras_version");
        IH5Group weightsRoot = KerasHdf5.TryGetGroup(h5, "model_weights", out var mw) ? mw : h5;
        version ??= KerasHdf5.ReadStringAttribute(weightsRoot, "keras_version");
        var graph = Build(doc.RootElement, path, limits, version, (_, file) => new LegacyWeightSource(weightsRoot, limits, file));
        if (KerasHdf5.ReadStringAttribute(h5, "backend") is { } backend) graph.Metadata["backend"] = backend;
        return graph;
    }

    internal static ModelGraph Build(JsonElement modelConfig, string? file, ReaderLimits limits, string? kerasVersion,
        Func<KerasModelConfig, string?, IKerasWeightSource> weights)
    {
        KerasModelConfig model;
        try { model = KerasModelConfig.Parse(modelConfig, limits, file); }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new ModelFormatException($"the model config is malformed: {e.Message}", file, "model_config", e);
        }
        var graph = new ModelGraph
        {
            Name = model.Name,
            SourcePath = file,
            SourceFormat = "keras",
            IrVersion = 8,
            ProducerName = "keras",
            ProducerVersion = kerasVersion ?? "",
        };
        graph.OpsetImports[""] = 17;
        if (kerasVersion is not null) graph.Metadata["keras_version"] = kerasVersion;
        graph.Metadata["keras_model_class"] = model.ClassName;
        try
        {
            var source = weights(model, file);
            var converter = new KerasConverter(new KerasGraphBuilder(graph, limits, file), source, MajorVersion(kerasVersion));
            converter.Convert(model);
            return graph;
        }
        catch (ModelFormatException e) when (e.FilePath is null && file is not null)
        {
            graph.Dispose();
            throw new ModelFormatException(e.Message, file, e.Location, e);
        }
        catch (Exception e) when (IsMalformed(e))
        {
            graph.Dispose();
            throw new ModelFormatException($"the model is malformed: {e.Message}", file, inner: e);
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    /// <summary>Exceptions that malformed JSON values or inconsistent sizes raise while converting.</summary>
    private static bool IsMalformed(Exception e) => e is InvalidOperationException or FormatException or OverflowException
        or IndexOutOfRangeException or ArgumentException or KeyNotFoundException or InvalidCastException;

    /// <summary>The Keras major version; files without <c>keras_version</c> are Keras 1.</summary>
    internal static int MajorVersion(string? version)
    {
        if (string.IsNullOrEmpty(version)) return 1;
        int dot = version.IndexOf('.');
        return int.TryParse(dot < 0 ? version : version[..dot], out int major) ? major : 2;
    }

    internal static JsonDocument ParseJson(string json, string? file, string what)
    {
        try { return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException e) { throw new ModelFormatException($"the {what} is not valid JSON: {e.Message}", file, what, e); }
    }

    private static NativeFile OpenHdf5(string path)
    {
        Hdf5Check.Check(path);
        // Through a FileStream: PureHDF's own file opening reads large contiguous datasets about 30x slower.
        FileStream? fs = null;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
            return H5File.Open(fs, leaveOpen: false);
        }
        catch (Exception e) when (e is not ModelFormatException)
        {
            fs?.Dispose();
            throw new ModelFormatException($"cannot open the HDF5 file: {e.Message}", path, inner: e);
        }
    }

    internal static NativeFile OpenHdf5(Stream stream, string? file)
    {
        try { return H5File.Open(stream, leaveOpen: false); }
        catch (Exception e) when (e is not ModelFormatException)
        {
            stream.Dispose();
            throw new ModelFormatException($"cannot open the embedded HDF5 weights: {e.Message}", file, "model.weights.h5", e);
        }
    }

    private enum ContainerKind { Unknown, Hdf5, Zip }

    private static void CheckFile(string path, ReaderLimits limits)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"Keras model file not found: {path}", path);
        if (info.Length > limits.MaxFileBytes)
            throw new ModelFormatException($"the file is {info.Length} bytes, over the limit {limits.MaxFileBytes} (ReaderLimits.MaxFileBytes)", path);
    }

    private static ContainerKind Sniff(string path, ReaderLimits limits)
    {
        CheckFile(path, limits);
        Span<byte> head = stackalloc byte[8];
        int n;
        using (var fs = File.OpenRead(path)) n = fs.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        if (n >= 8 && head.SequenceEqual(HdfMagic)) return ContainerKind.Hdf5;
        if (n >= 4 && head[..4].SequenceEqual(ZipMagic)) return ContainerKind.Zip;
        return ContainerKind.Unknown;
    }
}
