namespace FastInfer.Ir;

/// <summary>
/// The format-neutral model: what every reader produces and the runtime consumes. Operators are named
/// as in ONNX. The graph owns the memory of its constant tensors and frees it on <see cref="Dispose"/>.
/// </summary>
public sealed class ModelGraph : IDisposable
{
    public string Name { get; set; } = "";
    /// <summary>The file the graph came from, if any; used in messages.</summary>
    public string? SourcePath { get; set; }
    /// <summary>Which reader produced it: "onnx", "keras", "fim", "builder".</summary>
    public string SourceFormat { get; set; } = "";
    public long IrVersion { get; set; }
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    /// <summary>Operator set version per domain; "" is the default ONNX domain.</summary>
    public Dictionary<string, long> OpsetImports { get; } = new(StringComparer.Ordinal);
    public List<Node> Nodes { get; } = new();
    /// <summary>Values fed at run time (initializers are not listed here).</summary>
    public List<ValueInfo> Inputs { get; } = new();
    public List<ValueInfo> Outputs { get; } = new();
    /// <summary>Declared types of intermediate values, where the file has them.</summary>
    public List<ValueInfo> ValueInfos { get; } = new();
    public Dictionary<string, TensorData> Initializers { get; } = new(StringComparer.Ordinal);
    /// <summary>Free-form metadata (ONNX metadata_props, Keras versions, ...).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
    /// <summary>Weights already packed for a kernel layout (only a <c>.fim</c> file carries them); null when none.</summary>
    public PrepackedWeights? Prepacked { get; set; }

    private readonly List<IDisposable> _owned = new();
    private bool _disposed;

    /// <summary>The default-domain opset (ONNX "" or "ai.onnx"); 0 when none is imported.</summary>
    public long Opset => OpsetImports.TryGetValue("", out long v) ? v : OpsetImports.TryGetValue("ai.onnx", out v) ? v : 0;

    /// <summary>Allocates graph-owned, 64-byte aligned native memory, freed with the graph.</summary>
    public NativeMemoryBlock Allocate(long byteLength, bool zero = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var block = new NativeMemoryBlock(byteLength, zero);
        lock (_owned) _owned.Add(block);
        return block;
    }

    /// <summary>Hands ownership of a resource (a mapped file, a subgraph) to the graph.</summary>
    public void Own(IDisposable resource)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_owned) _owned.Add(resource);
    }

    /// <summary>Total bytes of constant tensors.</summary>
    public long WeightBytes => Initializers.Values.Sum(t => t.ByteLength);

    /// <summary>Total elements of constant tensors (the parameter count).</summary>
    public long ParameterCount => Initializers.Values.Sum(t => t.ElementCount);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_owned)
        {
            foreach (var r in _owned) r.Dispose();
            _owned.Clear();
        }
    }
}
