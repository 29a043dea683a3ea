using FastInfer.Ir;

namespace FastInfer.Runtime.Optimization;

/// <summary>
/// Removes Identity and inference-mode Dropout: readers of the output read the input instead. When the
/// output is a graph output, the producer of the input is renamed to write it directly.
/// </summary>
internal static class IdentityElimination
{
    public static int Run(ModelGraph graph)
    {
        int removed = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!IsRemovable(node)) continue;
            string input = node.Inputs[0], output = node.Outputs[0];
            var index = new GraphIndex(graph);
            if (index.IsGraphOutput(output))
            {
                // Rename the producer's output instead; impossible when the input is a graph input,
                // an initializer, another graph output, or read elsewhere.
                var producer = index.Producer(input);
                if (producer is null || index.IsGraphOutput(input) || index.Consumers(input).Count != 1) continue;
                producer.Outputs[producer.Outputs.IndexOf(input)] = output;
            }
            else
            {
                foreach (var reader in index.Consumers(output))
                    for (int k = 0; k < reader.Inputs.Count; k++)
                        if (reader.Inputs[k] == output) reader.Inputs[k] = input;
            }
            graph.Nodes.Remove(node);
            removed++;
        }
        return removed;
    }

    private static bool IsRemovable(Node node)
    {
        if (node.Domain is not ("" or "ai.onnx") || node.Inputs.Count < 1 || node.Inputs[0].Length == 0) return false;
        if (node.OpType == "Identity") return node.Outputs.Count == 1;
        // Dropout is the identity in inference unless training_mode is set, and only when no mask is asked for.
        if (node.OpType == "Dropout")
            return node.Outputs.Count >= 1 && (node.Outputs.Count == 1 || node.Outputs.Skip(1).All(o => o.Length == 0))
                   && (node.Inputs.Count < 3 || node.Inputs[2].Length == 0);
        return false;
    }
}
