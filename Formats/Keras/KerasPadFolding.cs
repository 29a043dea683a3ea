using FastInfer.Ir;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Folds a ZeroPadding layer into the convolutions it feeds (Keras' MobileNet/ResNet idiom ZeroPadding2D → Conv2D
/// 'valid'): the spatial zero pads move into the Conv's own <c>pads</c>, so the padded tensor is never written. Only
/// when every consumer is a Conv reading it as its data input with explicit pads; otherwise the Pad stays.
/// </summary>
internal static class KerasPadFolding
{
    public static void FoldZeroPaddingIntoConv(ModelGraph graph)
    {
        var consumers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
            foreach (var input in n.Inputs)
                if (input.Length > 0)
                {
                    if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                    if (!list.Contains(n)) list.Add(n);
                }
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var removed = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var pad in graph.Nodes)
        {
            if (pad.OpType != "Pad" || pad.Inputs.Count != 2 || pad.Outputs.Count != 1) continue;
            if ((pad.Attribute("mode")?.String ?? "constant") != "constant") continue;
            if (!graph.Initializers.TryGetValue(pad.Inputs[1], out var padsData) || padsData.ElementType != DataType.Int64) continue;
            var pads = padsData.AsSpan<long>().ToArray();
            int rank = pads.Length / 2;
            // Channels-first value: batch and channel axes must not be padded.
            if (rank < 3 || pads[0] != 0 || pads[1] != 0 || pads[rank] != 0 || pads[rank + 1] != 0) continue;
            string padded = pad.Outputs[0];
            if (outputs.Contains(padded) || !consumers.TryGetValue(padded, out var users) || users.Count == 0) continue;
            bool foldable = users.All(c => c.OpType == "Conv" && c.Inputs[0] == padded && c.Inputs.Skip(1).All(i => i != padded)
                && (c.Attribute("auto_pad")?.String ?? "NOTSET") == "NOTSET" && c.Attribute("pads")?.Ints is { } p && p.Length == 2 * (rank - 2));
            if (!foldable) continue;
            int spatial = rank - 2;
            foreach (var conv in users)
            {
                var old = conv.Attribute("pads")!.Ints!;
                var merged = new long[old.Length];
                for (int i = 0; i < spatial; i++)
                {
                    merged[i] = old[i] + pads[2 + i];
                    merged[spatial + i] = old[spatial + i] + pads[rank + 2 + i];
                }
                conv.SetAttribute(NodeAttribute.Of("pads", merged));
                conv.Inputs[0] = pad.Inputs[0];
            }
            removed.Add(pad);
            if (!graph.Nodes.Any(n => !ReferenceEquals(n, pad) && n.Inputs.Contains(pad.Inputs[1]))) graph.Initializers.Remove(pad.Inputs[1]);
        }
        if (removed.Count > 0) graph.Nodes.RemoveAll(removed.Contains);
    }
}
