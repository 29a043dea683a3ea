using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>Drops nodes none of whose outputs reach a graph output.</summary>
internal static class DeadNodeElimination
{
    public static int Run(ModelGraph graph)
    {
        var live = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var keep = new List<Node>();
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            if (!node.Outputs.Any(live.Contains)) continue;
            keep.Add(node);
            foreach (var input in node.Inputs) if (input.Length > 0) live.Add(input);
        }
        int removed = graph.Nodes.Count - keep.Count;
        keep.Reverse();
        graph.Nodes.Clear();
        graph.Nodes.AddRange(keep);
        return removed;
    }
}
