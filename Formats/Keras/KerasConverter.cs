using System.Text.Json;
using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Turns a parsed Keras model config plus its weights into ONNX-style nodes. Activations are tracked with their
/// Keras (channels_last) shape and a physical <see cref="Layout"/>; convolutions run channels-first.
/// </summary>
internal sealed partial class KerasConverter
{
    private KerasGraphBuilder B { get; }
    private readonly IKerasWeightSource _weights;
    private int KerasMajor { get; }
    private string? File => B.File;
    private readonly Dictionary<string, IReadOnlyList<WeightArray>> _weightCache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _initCache = new(StringComparer.Ordinal);

    public KerasConverter(KerasGraphBuilder builder, IKerasWeightSource weights, int kerasMajor)
    {
        B = builder; _weights = weights; KerasMajor = kerasMajor;
    }

    public void Convert(KerasModelConfig model)
    {
        CheckSupported(model);
        var graph = B.Graph;
        var outputs = new List<(string Name, KTensor Tensor)>();
        if (model.IsSequential)
        {
            var x = AddInput(model.SequentialInputName!, model.SequentialInputShape!, model.Layers[0]);
            KerasLayer? last = null;
            foreach (var layer in model.Layers)
            {
                if (layer.IsInput) continue;
                x = Apply(layer, [x])[0];
                last = layer;
            }
            outputs.Add((last?.Name ?? model.SequentialInputName + "_output", x));
        }
        else
        {
            var byName = model.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
            var tensors = new Dictionary<KerasTensorRef, KTensor>();
            foreach (var input in model.Inputs)
            {
                if (!byName.TryGetValue(input.Layer, out var il))
                    throw new ModelFormatException($"input layer '{input.Layer}' is not in the layer list", File, "input_layers");
                if (!il.IsInput)
                    throw new ModelFormatException($"model input '{input.Layer}' is a {il.ClassName}, not an InputLayer", File, input.Layer);
                var shape = KerasModelConfig.InputShapeOf(il)
                    ?? throw new ModelFormatException("the InputLayer declares no shape", File, il.Name);
                tensors[new KerasTensorRef(il.Name, 0, 0)] = AddInput(il.Name, shape, il);
            }
            var pending = new List<(KerasLayer Layer, int Node)>();
            foreach (var l in model.Layers)
                if (!l.IsInput)
                    for (int n = 0; n < l.InboundNodes.Count; n++) pending.Add((l, n));
            while (pending.Count > 0)
            {
                int before = pending.Count;
                for (int i = 0; i < pending.Count; i++)
                {
                    var (layer, n) = pending[i];
                    var refs = layer.InboundNodes[n];
                    if (!refs.All(tensors.ContainsKey)) continue;
                    var outs = Apply(layer, refs.Select(r => tensors[r]).ToList(), n);
                    for (int k = 0; k < outs.Count; k++) tensors[new KerasTensorRef(layer.Name, n, k)] = outs[k];
                    pending.RemoveAt(i--);
                }
                if (pending.Count == before)
                {
                    var (layer, n) = pending[0];
                    var missing = layer.InboundNodes[n].First(r => !tensors.ContainsKey(r));
                    throw new ModelFormatException($"layer '{layer.Name}' consumes '{missing.Layer}' (node {missing.Node}, tensor {missing.Tensor}), which is never produced", File, layer.Name);
                }
            }
            foreach (var o in model.Outputs)
            {
                if (!tensors.TryGetValue(o, out var t))
                    throw new ModelFormatException($"output '{o.Layer}' (node {o.Node}, tensor {o.Tensor}) is never produced", File, "output_layers");
                string name = o.Node == 0 && o.Tensor == 0 ? o.Layer : $"{o.Layer}_{o.Node}_{o.Tensor}";
                outputs.Add((name, t));
            }
        }
        foreach (var (name, tensor) in outputs) AddOutput(name, tensor);
        KerasPadFolding.FoldZeroPaddingIntoConv(graph);
    }

    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "InputLayer",
        "Conv2D", "Convolution2D", "AtrousConvolution2D", "Conv1D", "Convolution1D", "AtrousConvolution1D",
        "DepthwiseConv2D", "DepthwiseConv1D", "SeparableConv2D", "SeparableConvolution2D", "SeparableConv1D",
        "MaxPooling2D", "MaxPooling1D", "AveragePooling2D", "AveragePooling1D", "MaxPool2D", "MaxPool1D", "AvgPool2D", "AvgPool1D",
        "GlobalAveragePooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling1D",
        "GlobalAvgPool2D", "GlobalAvgPool1D", "GlobalMaxPool2D", "GlobalMaxPool1D",
        "Flatten", "Reshape", "Permute", "Dense",
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
        "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
        "BatchNormalization", "LayerNormalization", "Rescaling", "Normalization",
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
        "ZeroPadding2D", "ZeroPadding1D", "UpSampling2D", "UpSampling1D",
    };

    private void CheckSupported(KerasModelConfig model)
    {
        var bad = model.Layers.Where(l => !Supported.Contains(l.ClassName)).ToList();
        if (bad.Count > 0)
            throw new ModelFormatException(
                "unsupported Keras layer" + (bad.Count > 1 ? "s" : "") + ": " + string.Join(", ", bad.Select(l => $"'{l.Name}' ({l.ClassName})")) +
                (bad.Any(l => l.ClassName is "Sequential" or "Functional" or "Model") ? "; nested models are not supported" : ""),
                File, bad[0].Name);
        foreach (var l in model.Layers)
        {
            if (l.RegisteredName is { } rn && !rn.StartsWith("keras", StringComparison.Ordinal) && rn != l.ClassName)
                throw new ModelFormatException($"layer '{l.Name}' is the custom class '{rn}', which is not supported", File, l.Name);
            string? fmt = KerasJson.Str(l.Config, "data_format");
            string? ord = KerasJson.Str(l.Config, "dim_ordering");
            if (fmt == "channels_first" || ord == "th")
                throw new ModelFormatException($"layer '{l.Name}' ({l.ClassName}) uses channels_first / Theano ordering; only channels_last models are supported", File, l.Name);
        }
    }

    private KTensor AddInput(string name, long[] shape, KerasLayer layer)
    {
        if (shape.Length < 2 || shape.Length > B.Limits.MaxRank)
            throw new ModelFormatException($"input shape {string.Join(",", shape)} has an unsupported rank (2 to {B.Limits.MaxRank}, ReaderLimits.MaxRank)", File, layer.Name);
        foreach (long d in shape)
            if (d > B.Limits.MaxDim || d == 0) throw new ModelFormatException($"input dimension {d} is out of range (1 to {B.Limits.MaxDim}, ReaderLimits.MaxDim)", File, layer.Name);
        string? dtype = layer.IsInput ? KerasJson.Str(layer.Config, "dtype", "input_dtype") : null;
        if (dtype is not null && !dtype.Contains("float", StringComparison.Ordinal))
            throw new ModelFormatException($"input '{name}' has dtype '{dtype}'; only float inputs are supported", File, layer.Name);
        B.Reserve(name);
        var dims = shape.Select((d, i) => d >= 0 ? Dimension.Fixed(d) : Dimension.Symbolic(i == 0 ? "batch" : null)).ToList();
        B.Graph.Inputs.Add(new ValueInfo(name, DataType.Float, dims));
        return new KTensor(name, shape, Layout.Plain);
    }

    private readonly Dictionary<string, string> _renamed = new(StringComparer.Ordinal);

    private void AddOutput(string name, KTensor t)
    {
        var plain = B.Plain(t);
        var graph = B.Graph;
        string value = _renamed.GetValueOrDefault(plain.Value, plain.Value);
        bool isInput = graph.Inputs.Any(i => i.Name == value);
        bool usedOutput = graph.Outputs.Any(o => o.Name == value);
        string outName;
        try { outName = B.Reserve(name); }
        catch (ModelFormatException) { outName = B.Unique(name); }
        if (isInput || usedOutput)
        {
            graph.Nodes.Add(new Node { Name = outName, OpType = "Identity", Inputs = [value], Outputs = [outName] });
        }
        else
        {
            foreach (var node in graph.Nodes)
            {
                for (int i = 0; i < node.Outputs.Count; i++) if (node.Outputs[i] == value) node.Outputs[i] = outName;
                for (int i = 0; i < node.Inputs.Count; i++) if (node.Inputs[i] == value) node.Inputs[i] = outName;
            }
            _renamed[value] = outName;
        }
        var dims = plain.Shape.Select((d, i) => d >= 0 ? Dimension.Fixed(d) : Dimension.Symbolic(i == 0 ? "batch" : null)).ToList();
        graph.Outputs.Add(new ValueInfo(outName, DataType.Float, dims));
    }

    // ---- weights ----

    private IReadOnlyList<WeightArray> Weights(KerasLayer layer)
    {
        if (!_weightCache.TryGetValue(layer.Name, out var w)) _weightCache[layer.Name] = w = _weights.Read(layer);
        return w;
    }

    /// <summary>The layer's weights, which must number exactly <paramref name="count"/>.</summary>
    private IReadOnlyList<WeightArray> Weights(KerasLayer layer, int count, string what)
    {
        var w = Weights(layer);
        if (w.Count != count)
            throw new ModelFormatException($"layer '{layer.Name}' ({layer.ClassName}) has {w.Count} weight arrays, expected {count} ({what})", File, layer.Name);
        return w;
    }

    private void CheckShape(KerasLayer layer, WeightArray w, string role, params long[] expected)
    {
        bool ok = w.Shape.Length == expected.Length;
        for (int i = 0; ok && i < expected.Length; i++) ok = expected[i] < 0 || w.Shape[i] == expected[i];
        if (!ok)
            throw new ModelFormatException(
                $"layer '{layer.Name}' ({layer.ClassName}): {role} '{w.Name}' has shape {w.ShapeText}, but the config implies ({string.Join(",", expected.Select(e => e < 0 ? "?" : e.ToString(System.Globalization.CultureInfo.InvariantCulture)))})",
                File, layer.Name);
    }

    /// <summary>A graph initializer made once per layer and role (shared layers reuse it).</summary>
    private string Init(KerasLayer layer, string role, Func<(long[] Dims, float[] Data)> make)
    {
        string key = layer.Name + "/" + role;
        if (_initCache.TryGetValue(key, out string? name)) return name;
        var (dims, data) = make();
        name = B.Const(key, dims, data);
        _initCache[key] = name;
        return name;
    }

    /// <summary>An initializer filled in place from the file (one copy of the weight), made once per layer and role.</summary>
    private string InitFilled(KerasLayer layer, string role, long[] dims, Action<Memory<float>> fill)
    {
        string key = layer.Name + "/" + role;
        if (_initCache.TryGetValue(key, out string? name)) return name;
        name = B.ConstFilled(key, dims, fill);
        _initCache[key] = name;
        return name;
    }

    /// <summary>
    /// A weight with its axes permuted (kernel layout changes): read straight into the initializer, then transposed in
    /// place. <paramref name="dims"/> overrides the permuted shape's dims.
    /// </summary>
    private string InitTransposed(KerasLayer layer, string role, WeightArray w, int[] perm, long[]? dims = null)
    {
        var shape = w.Shape;
        dims ??= perm.Select(p => shape[p]).ToArray();
        return InitFilled(layer, role, dims, dst => { w.CopyTo(dst); KerasWeightMath.TransposeInPlace(dst.Span, shape, perm); });
    }

    private ModelFormatException Error(KerasLayer layer, string message) =>
        new($"layer '{layer.Name}' ({layer.ClassName}): {message}", File, layer.Name);

    private static string? ActivationName(JsonElement cfg) => KerasJson.Str(cfg, "activation");

    private static int NormalizeAxis(int axis, int rank, KerasLayer layer, string? file)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ModelFormatException($"axis {axis} is out of range for rank {rank}", file, layer.Name);
        return a;
    }

    private List<KTensor> Apply(KerasLayer layer, List<KTensor> inputs, int callIndex = 0)
    {
        if (inputs.Count == 0) throw Error(layer, "the layer has no inputs");
        string scope = callIndex == 0 ? layer.Name : $"{layer.Name}_{callIndex}";
        var cfg = layer.Config;
        KTensor Single()
        {
            if (inputs.Count != 1) throw Error(layer, $"expects one input, got {inputs.Count}");
            return inputs[0];
        }
        KTensor result = layer.ClassName switch
        {
            "Conv2D" or "Convolution2D" or "AtrousConvolution2D" => Conv(layer, Single(), scope, 2),
            "Conv1D" or "Convolution1D" or "AtrousConvolution1D" => Conv(layer, Single(), scope, 1),
            "DepthwiseConv2D" => DepthwiseConv(layer, Single(), scope, 2),
            "DepthwiseConv1D" => DepthwiseConv(layer, Single(), scope, 1),
            "SeparableConv2D" or "SeparableConvolution2D" => SeparableConv(layer, Single(), scope, 2),
            "SeparableConv1D" => SeparableConv(layer, Single(), scope, 1),
            "MaxPooling2D" or "MaxPool2D" => Pool(layer, Single(), scope, 2, "MaxPool"),
            "MaxPooling1D" or "MaxPool1D" => Pool(layer, Single(), scope, 1, "MaxPool"),
            "AveragePooling2D" or "AvgPool2D" => Pool(layer, Single(), scope, 2, "AveragePool"),
            "AveragePooling1D" or "AvgPool1D" => Pool(layer, Single(), scope, 1, "AveragePool"),
            "GlobalAveragePooling2D" or "GlobalAveragePooling1D" or "GlobalAvgPool2D" or "GlobalAvgPool1D" => GlobalPool(layer, Single(), scope, "GlobalAveragePool"),
            "GlobalMaxPooling2D" or "GlobalMaxPooling1D" or "GlobalMaxPool2D" or "GlobalMaxPool1D" => GlobalPool(layer, Single(), scope, "GlobalMaxPool"),
            "Flatten" => Flatten(layer, Single(), scope),
            "Reshape" => Reshape(layer, Single(), scope),
            "Permute" => Permute(layer, Single(), scope),
            "Dense" => Dense(layer, Single(), scope),
            "Dropout" or "SpatialDropout1D" or "SpatialDropout2D" or "SpatialDropout3D" or "GaussianNoise" or "GaussianDropout"
                or "AlphaDropout" or "ActivityRegularization" => Single() with { Value = B.Node("Identity", scope, [Single().Value]) },
            "Activation" => Activate(ActivationName(cfg) ?? "linear", Single(), scope),
            "ReLU" => ReluLayer(layer, Single(), scope),
            "LeakyReLU" => Single() with { Value = B.Node("LeakyRelu", scope, [Single().Value],
                NodeAttribute.Of("alpha", (float)KerasJson.Num(cfg, 0.3, "negative_slope", "alpha"))) },
            "ELU" => Single() with { Value = B.Node("Elu", scope, [Single().Value], NodeAttribute.Of("alpha", (float)KerasJson.Num(cfg, 1.0, "alpha"))) },
            "PReLU" => PRelu(layer, Single(), scope),
            "Softmax" => Single() with { Value = SoftmaxNode(Single(), NormalizeAxis(KerasJson.Int(cfg, -1, "axis"), Single().Rank, layer, File), scope, "Softmax") },
            "BatchNormalization" => BatchNorm(layer, Single(), scope),
            "LayerNormalization" => LayerNorm(layer, Single(), scope),
            "Rescaling" => Rescaling(layer, Single(), scope),
            "Normalization" => Normalization(layer, Single(), scope),
            "Add" or "Subtract" or "Multiply" or "Average" or "Maximum" or "Minimum" => Merge(layer, inputs, scope),
            "Concatenate" => Concatenate(layer, inputs, scope),
            "ZeroPadding2D" => ZeroPadding(layer, Single(), scope, 2),
            "ZeroPadding1D" => ZeroPadding(layer, Single(), scope, 1),
            "UpSampling2D" => UpSampling(layer, Single(), scope, 2),
            "UpSampling1D" => UpSampling(layer, Single(), scope, 1),
            _ => throw Error(layer, "unsupported layer"),
        };
        return [result];
    }
}
