using System.Text.Json;

namespace FastInfer.Formats.Keras;

/// <summary>A reference to a Keras tensor: the <paramref name="Node"/>-th call of layer <paramref name="Layer"/>, output <paramref name="Tensor"/>.</summary>
internal readonly record struct KerasTensorRef(string Layer, int Node, int Tensor);

/// <summary>One layer of the model config.</summary>
internal sealed class KerasLayer
{
    public required string Name { get; init; }
    public required string ClassName { get; init; }
    public required JsonElement Config { get; init; }
    /// <summary>Each call of the layer (Functional): the tensors it was called on.</summary>
    public List<List<KerasTensorRef>> InboundNodes { get; } = new();
    public string? RegisteredName { get; init; }
    public string? Module { get; init; }
    public bool IsInput => ClassName == "InputLayer";
    public override string ToString() => $"{Name} ({ClassName})";
}

/// <summary>The architecture: Sequential (a chain) or Functional (a DAG of layer calls).</summary>
internal sealed class KerasModelConfig
{
    public required string ClassName { get; init; }
    public string Name { get; init; } = "";
    public bool IsSequential { get; init; }
    /// <summary>Layers in config order (for Sequential, InputLayer included if present).</summary>
    public List<KerasLayer> Layers { get; } = new();
    public List<KerasTensorRef> Inputs { get; } = new();
    public List<KerasTensorRef> Outputs { get; } = new();
    /// <summary>Sequential only: the declared batch input shape (from InputLayer, the first layer or build_input_shape).</summary>
    public long[]? SequentialInputShape { get; set; }
    public string? SequentialInputName { get; set; }

    /// <summary>Keras' <c>model.layers</c>: Sequential excludes the InputLayer; Functional lists all.</summary>
    public IEnumerable<KerasLayer> ModelLayers => IsSequential ? Layers.Where(l => !l.IsInput) : Layers;

    public static KerasModelConfig Parse(JsonElement root, ReaderLimits limits, string? file)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException("the model config is not a JSON object", file, "model_config");
        string cls = KerasJson.Str(root, "class_name") ?? throw new ModelFormatException("the model config has no class_name", file, "model_config");
        string? registered = KerasJson.Find(root, "registered_name") is { ValueKind: JsonValueKind.String } r ? r.GetString() : null;
        if (cls is not ("Sequential" or "Model" or "Functional"))
            throw new ModelFormatException(
                $"unsupported model class '{cls}'{(registered is null ? "" : $" (registered as '{registered}')")}: custom or subclassed Keras models " +
                "cannot be rebuilt without their Python code; only Sequential and Functional models are supported", file, "model_config.class_name");
        if (registered is not null && !registered.StartsWith("keras", StringComparison.Ordinal) && registered != cls)
            throw new ModelFormatException($"unsupported custom model class '{registered}'", file, "model_config.registered_name");
        var config = KerasJson.Find(root, "config") ?? throw new ModelFormatException("the model config has no 'config'", file, "model_config");

        bool sequential = cls == "Sequential";
        JsonElement layersEl;
        string name = "";
        if (config.ValueKind == JsonValueKind.Array) layersEl = config;
        else if (config.ValueKind == JsonValueKind.Object && KerasJson.Find(config, "layers") is { ValueKind: JsonValueKind.Array } le)
        {
            layersEl = le;
            name = KerasJson.Str(config, "name") ?? "";
        }
        else throw new ModelFormatException("the model config has no 'layers' list", file, "model_config.config");
        if (layersEl.GetArrayLength() > limits.MaxNodes)
            throw new ModelFormatException($"the model has {layersEl.GetArrayLength()} layers, over the node limit {limits.MaxNodes} (ReaderLimits.MaxNodes)", file, "model_config");

        var model = new KerasModelConfig { ClassName = cls, Name = name, IsSequential = sequential };
        int index = 0;
        foreach (var le in layersEl.EnumerateArray())
        {
            model.Layers.Add(ParseLayer(le, sequential, file, index++));
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in model.Layers)
            if (!names.Add(l.Name)) throw new ModelFormatException($"duplicate layer name '{l.Name}'", file, "model_config.layers");

        if (sequential) ResolveSequentialInput(model, config, file);
        else
        {
            ParseEndpoints(KerasJson.Find(config, "input_layers"), model.Inputs, file, "input_layers");
            ParseEndpoints(KerasJson.Find(config, "output_layers"), model.Outputs, file, "output_layers");
            if (model.Inputs.Count == 0 || model.Outputs.Count == 0)
                throw new ModelFormatException("the functional model config lacks input_layers or output_layers", file, "model_config.config");
        }
        return model;
    }

    private static KerasLayer ParseLayer(JsonElement le, bool sequential, string? file, int index)
    {
        if (le.ValueKind != JsonValueKind.Object) throw new ModelFormatException($"layer #{index} is not an object", file, "model_config.layers");
        string cls = KerasJson.Str(le, "class_name") ?? throw new ModelFormatException($"layer #{index} has no class_name", file, "model_config.layers");
        var cfg = KerasJson.Find(le, "config") ?? default;
        if (cfg.ValueKind != JsonValueKind.Object) cfg = JsonDocument.Parse("{}").RootElement;
        string name = KerasJson.Str(le, "name") ?? KerasJson.Str(cfg, "name") ?? $"{KerasNaming.ToSnakeCase(cls)}_{index}";
        var layer = new KerasLayer
        {
            Name = name, ClassName = cls, Config = cfg,
            RegisteredName = KerasJson.Find(le, "registered_name") is { ValueKind: JsonValueKind.String } r ? r.GetString() : null,
            Module = KerasJson.Find(le, "module") is { ValueKind: JsonValueKind.String } m ? m.GetString() : null,
        };
        if (!sequential && KerasJson.Find(le, "inbound_nodes") is { ValueKind: JsonValueKind.Array } nodes)
        {
            foreach (var node in nodes.EnumerateArray())
            {
                var refs = new List<KerasTensorRef>();
                if (node.ValueKind == JsonValueKind.Array)
                {
                    // Keras 2: [["name", node, tensor, {kwargs}], ...]
                    foreach (var t in node.EnumerateArray()) refs.Add(ParseRef(t, file, name));
                }
                else if (node.ValueKind == JsonValueKind.Object)
                {
                    // Keras 3: {"args": [...], "kwargs": {...}} with nested __keras_tensor__ objects.
                    if (KerasJson.Find(node, "args") is { } args) CollectKerasTensors(args, refs, file, name, 0);
                }
                else throw new ModelFormatException("inbound node is neither a list nor an object", file, name);
                layer.InboundNodes.Add(refs);
            }
        }
        return layer;
    }

    private static void CollectKerasTensors(JsonElement e, List<KerasTensorRef> into, string? file, string layer, int depth)
    {
        if (depth > 32) throw new ModelFormatException("inbound_nodes are nested too deeply", file, layer);
        if (e.ValueKind == JsonValueKind.Array)
            foreach (var x in e.EnumerateArray()) CollectKerasTensors(x, into, file, layer, depth + 1);
        else if (e.ValueKind == JsonValueKind.Object)
        {
            if (KerasJson.Str(e, "class_name") == "__keras_tensor__" && KerasJson.Find(e, "config") is { } c &&
                KerasJson.Find(c, "keras_history") is { } h)
                into.Add(ParseRef(h, file, layer));
            else if (KerasJson.Str(e, "class_name") is null)
                foreach (var p in e.EnumerateObject()) CollectKerasTensors(p.Value, into, file, layer, depth + 1);
        }
    }

    private static KerasTensorRef ParseRef(JsonElement t, string? file, string layer)
    {
        if (t.ValueKind != JsonValueKind.Array || t.GetArrayLength() < 1 || t[0].ValueKind != JsonValueKind.String)
            throw new ModelFormatException($"malformed tensor reference {t}", file, layer);
        int node = t.GetArrayLength() > 1 ? KerasJson.ToInt(t[1], "node_index") : 0;
        int tensor = t.GetArrayLength() > 2 ? KerasJson.ToInt(t[2], "tensor_index") : 0;
        return new KerasTensorRef(t[0].GetString()!, node, tensor);
    }

    private static void ParseEndpoints(JsonElement? e, List<KerasTensorRef> into, string? file, string field)
    {
        if (e is null) return;
        var v = e.Value;
        if (v.ValueKind != JsonValueKind.Array) throw new ModelFormatException($"'{field}' must be a list", file, field);
        if (v.GetArrayLength() > 0 && v[0].ValueKind == JsonValueKind.String) { into.Add(ParseRef(v, file, field)); return; } // Keras 3 single
        foreach (var x in v.EnumerateArray()) into.Add(ParseRef(x, file, field));
    }

    private static void ResolveSequentialInput(KerasModelConfig model, JsonElement config, string? file)
    {
        var first = model.Layers.FirstOrDefault() ?? throw new ModelFormatException("the Sequential model has no layers", file, "model_config");
        long[]? shape = InputShapeOf(first);
        if (shape is null && config.ValueKind == JsonValueKind.Object) shape = KerasJson.Shape(config, "build_input_shape");
        if (shape is null)
            throw new ModelFormatException("the Sequential model declares no input shape (no InputLayer, batch_input_shape or build_input_shape)", file, first.Name);
        model.SequentialInputShape = shape;
        model.SequentialInputName = first.IsInput ? first.Name : first.Name + "_input";
    }

    /// <summary>The declared batch input shape of a layer (Keras 1/2/3 spellings), or null.</summary>
    public static long[]? InputShapeOf(KerasLayer layer)
    {
        var cfg = layer.Config;
        if (KerasJson.Shape(cfg, "batch_shape", "batch_input_shape") is { } s) return s;
        if (KerasJson.Shape(cfg, "input_shape") is { } i) return [-1, .. i];
        if (KerasJson.Find(cfg, "input_dim") is { ValueKind: JsonValueKind.Number } d)
        {
            long dim = KerasJson.ToInt(d, "input_dim");
            if (KerasJson.Find(cfg, "input_length") is { ValueKind: JsonValueKind.Number } len) return [-1, KerasJson.ToInt(len, "input_length"), dim];
            return [-1, dim];
        }
        return null;
    }
}
