using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>Who produces and who reads each value; rebuilt by a pass after it rewrites the graph.</summary>
internal sealed class GraphIndex
{
    private readonly Dictionary<string, Node> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Node>> _consumers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs;
    private readonly ModelGraph _graph;

    public GraphIndex(ModelGraph graph)
    {
        _graph = graph;
        _graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            foreach (var o in n.Outputs) if (o.Length > 0) _producer[o] = n;
            foreach (var i in n.Inputs)
                if (i.Length > 0)
                {
                    if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = new List<Node>();
                    list.Add(n);
                }
        }
    }

    public Node? Producer(string value) => _producer.GetValueOrDefault(value);
    public IReadOnlyList<Node> Consumers(string value) => _consumers.TryGetValue(value, out var l) ? l : Array.Empty<Node>();
    public bool IsGraphOutput(string value) => _graphOutputs.Contains(value);

    /// <summary>A value read by exactly one node and not a graph output: safe to fuse away.</summary>
    public bool HasSingleReader(string value) => !IsGraphOutput(value) && Consumers(value).Count == 1;

    public TensorData? Constant(string value) => value.Length > 0 ? _graph.Initializers.GetValueOrDefault(value) : null;
}
