using PureHDF;

namespace FastInfer.Formats.Keras;

/// <summary>Where a layer's weights come from: a legacy HDF5 <c>model_weights</c> tree or a Keras 3 weights file.</summary>
internal interface IKerasWeightSource
{
    /// <summary>The layer's weights in Keras order (e.g. kernel, bias); empty when the file holds none for it.</summary>
    IReadOnlyList<WeightArray> Read(KerasLayer layer);
}

/// <summary>
/// Legacy HDF5 weights: <c>layer_names</c> on the weights root, <c>weight_names</c> on each layer group, each
/// name resolved relative to the layer group ('/' means nested groups). Weights are mapped by order.
/// </summary>
internal sealed class LegacyWeightSource : IKerasWeightSource
{
    private readonly IH5Group _root;
    private readonly HashSet<string> _layerNames;
    private readonly ReaderLimits _limits;
    private readonly string? _file;

    public LegacyWeightSource(IH5Group root, ReaderLimits limits, string? file)
    {
        _root = root; _limits = limits; _file = file;
        var names = KerasHdf5.ReadStringArrayAttribute(root, "layer_names");
        if (names.Length == 0 && !KerasHdf5.HasAttribute(root, "layer_names"))
            throw new ModelFormatException("the weights group has no 'layer_names' attribute", file, root.Name);
        _layerNames = new HashSet<string>(names, StringComparer.Ordinal);
    }

    public IReadOnlyList<WeightArray> Read(KerasLayer layer)
    {
        if (!_layerNames.Contains(layer.Name)) return [];
        if (!KerasHdf5.TryGetGroup(_root, layer.Name, out var group))
            throw new ModelFormatException($"layer '{layer.Name}' is listed in layer_names but has no group", _file, layer.Name);
        var weightNames = KerasHdf5.ReadStringArrayAttribute(group, "weight_names");
        var result = new List<WeightArray>(weightNames.Length);
        foreach (string wn in weightNames)
        {
            if (!KerasHdf5.TryGetDataset(group, wn, out var ds) && !KerasHdf5.TryGetDataset(_root, wn, out ds))
                throw new ModelFormatException($"weight '{wn}' of layer '{layer.Name}' was not found (resolved relative to the layer group)", _file, layer.Name);
            result.Add(KerasHdf5.ReadFloats(ds, layer.Name + "/" + wn, _limits, _file));
        }
        return result;
    }
}

/// <summary>
/// Keras 3 weights (<c>model.weights.h5</c>): <c>layers/&lt;snake_case(class)&gt;[_N]/vars/0..n-1</c>, with a per-class
/// counter taken in <c>model.layers</c> order.
/// </summary>
internal sealed class Keras3WeightSource : IKerasWeightSource
{
    private readonly IH5Group _root;
    private readonly Dictionary<KerasLayer, string> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly ReaderLimits _limits;
    private readonly string? _file;

    public Keras3WeightSource(IH5Group root, IEnumerable<KerasLayer> modelLayersInOrder, ReaderLimits limits, string? file)
    {
        _root = root; _limits = limits; _file = file;
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var layer in modelLayersInOrder)
        {
            string name = KerasNaming.ToSnakeCase(layer.ClassName);
            if (used.TryGetValue(name, out int n)) { used[name] = n + 1; name = $"{name}_{n + 1}"; }
            else used[name] = 0;
            _keys[layer] = "layers/" + name;
        }
    }

    public IReadOnlyList<WeightArray> Read(KerasLayer layer)
    {
        if (!_keys.TryGetValue(layer, out string? key)) return [];
        if (!KerasHdf5.TryGetGroup(_root, key + "/vars", out var vars)) return [];
        var result = new List<WeightArray>();
        for (int i = 0; ; i++)
        {
            if (!KerasHdf5.TryGetDataset(vars, i.ToString(System.Globalization.CultureInfo.InvariantCulture), out var ds)) break;
            if (i >= 64) throw new ModelFormatException($"layer '{layer.Name}' has too many variables", _file, key);
            result.Add(KerasHdf5.ReadFloats(ds, $"{key}/vars/{i}", _limits, _file));
        }
        return result;
    }
}
