namespace FastInfer.Formats.Onnx;

/// <summary>
/// State shared by one parse: the source bytes, the limits, running totals checked before every allocation,
/// the subgraph depth, and the external-data files opened so far.
/// </summary>
internal sealed class OnnxParseContext : IDisposable
{
    public ModelSource Source { get; }
    public ReaderLimits Limits { get; }
    public string? FilePath => Source.FilePath;
    public long TotalWeightBytes { get; private set; }
    public int NodeCount { get; private set; }
    public int GraphDepth { get; private set; }
    public ExternalDataFiles ExternalFiles { get; }
    /// <summary>Every subgraph parsed, so model-level facts (opsets, IR version) can be copied onto them at the end.</summary>
    public List<FastInfer.Ir.ModelGraph> Subgraphs { get; } = new();

    public OnnxParseContext(ModelSource source, ReaderLimits limits)
    {
        Source = source;
        Limits = limits;
        ExternalFiles = new ExternalDataFiles(this);
    }

    public ModelFormatException Error(string message, string location, long offset) =>
        new($"{message} (at byte {offset})", FilePath, location);

    public ModelFormatException Error(string message, string location) => new(message, FilePath, location);

    /// <summary>Counts a tensor's bytes toward the model total before it is allocated.</summary>
    public void AddWeightBytes(long bytes, string location)
    {
        if (bytes > Limits.MaxTensorBytes)
            throw Error($"tensor of {bytes} bytes exceeds the limit of {Limits.MaxTensorBytes} bytes (ReaderLimits.MaxTensorBytes)", location);
        if (bytes > Limits.MaxTotalWeightBytes - TotalWeightBytes)
            throw Error($"constant tensors total more than {Limits.MaxTotalWeightBytes} bytes (ReaderLimits.MaxTotalWeightBytes)", location);
        TotalWeightBytes += bytes;
    }

    public void AddNode(string location)
    {
        if (NodeCount >= Limits.MaxNodes)
            throw Error($"the model has more than {Limits.MaxNodes} nodes (ReaderLimits.MaxNodes)", location);
        NodeCount++;
    }

    /// <summary>Enters a subgraph; the depth bound keeps recursion (and the stack) finite for hostile nesting.</summary>
    public void EnterGraph(string location, long offset)
    {
        if (GraphDepth >= Limits.MaxGraphDepth)
            throw Error($"subgraphs nested deeper than {Limits.MaxGraphDepth} levels (ReaderLimits.MaxGraphDepth)", location, offset);
        GraphDepth++;
    }

    public void ExitGraph() => GraphDepth--;

    public void Dispose() => ExternalFiles.Dispose();
}
