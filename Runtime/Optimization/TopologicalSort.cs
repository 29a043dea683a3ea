using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>Kahn's algorithm, keeping the file's order among ready nodes so plans stay predictable.</summary>
internal static class TopologicalSort
{
    public static void Run(ModelGraph graph)
    {
        var nodes = graph.Nodes;
        var producerIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
            foreach (var o in nodes[i].Outputs)
                if (o.Length > 0 && !producerIndex.TryAdd(o, i))
                    throw new InvalidModelException($"Value '{o}' is produced by two nodes ('{nodes[producerIndex[o]].DisplayName}' and '{nodes[i].DisplayName}').");

        var pending = new int[nodes.Count];
        var dependents = new List<int>[nodes.Count];
        for (int i = 0; i < nodes.Count; i++) dependents[i] = new List<int>();
        for (int i = 0; i < nodes.Count; i++)
            foreach (var input in nodes[i].Inputs.Distinct())
                if (input.Length > 0 && producerIndex.TryGetValue(input, out int p))
                {
                    if (p == i) throw new InvalidModelException($"Node '{nodes[i].DisplayName}' reads its own output '{input}'.");
                    pending[i]++;
                    dependents[p].Add(i);
                }

        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < nodes.Count; i++) if (pending[i] == 0) ready.Enqueue(i, i);
        var order = new List<Node>(nodes.Count);
        while (ready.TryDequeue(out int i, out _))
        {
            order.Add(nodes[i]);
            foreach (int d in dependents[i]) if (--pending[d] == 0) ready.Enqueue(d, d);
        }
        if (order.Count != nodes.Count)
        {
            var stuck = Enumerable.Range(0, nodes.Count).Where(i => pending[i] > 0).Take(5).Select(i => "'" + nodes[i].DisplayName + "'");
            throw new InvalidModelException($"The graph has a cycle; nodes that never become ready include {string.Join(", ", stuck)}.");
        }
        nodes.Clear();
        nodes.AddRange(order);
    }
}
