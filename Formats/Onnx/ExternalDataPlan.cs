using FastInfer.Ir;

namespace FastInfer.Formats.Onnx;

/// <summary>Which tensors go to the external data file and at what offsets; writes that file by streaming.</summary>
internal sealed class ExternalDataPlan
{
    public const int Alignment = 4096;

    public string FileName { get; }
    private readonly Dictionary<TensorData, long> _offsets = new(ReferenceEqualityComparer.Instance);
    private readonly List<TensorData> _order = new();

    private ExternalDataPlan(string fileName) => FileName = fileName;

    public bool TryGetOffset(TensorData tensor, out long offset) => _offsets.TryGetValue(tensor, out offset);

    public static ExternalDataPlan Create(ModelGraph graph, string fileName, long threshold)
    {
        var plan = new ExternalDataPlan(fileName);
        long next = 0;
        void Visit(TensorData t)
        {
            if (t.Strings is not null || t.ByteLength < threshold || plan._offsets.ContainsKey(t)) return;
            plan._offsets[t] = next;
            plan._order.Add(t);
            next = (next + t.ByteLength + Alignment - 1) / Alignment * Alignment;
        }
        void Walk(ModelGraph g)
        {
            foreach (var t in g.Initializers.Values) Visit(t);
            foreach (var node in g.Nodes)
                foreach (var a in node.Attributes.Values)
                {
                    if (a.Tensor is not null) Visit(a.Tensor);
                    if (a.Tensors is not null) foreach (var t in a.Tensors) Visit(t);
                    if (a.Graph is not null) Walk(a.Graph);
                    if (a.Graphs is not null) foreach (var s in a.Graphs) Walk(s);
                }
        }
        Walk(graph);
        return plan;
    }

    public bool IsEmpty => _order.Count == 0;

    /// <summary>Streams every planned tensor from native memory to <paramref name="path"/>, zero-padding between them.</summary>
    public void WriteFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var writer = ProtoWriter.To(stream);
        Span<byte> zeros = stackalloc byte[Alignment];
        zeros.Clear();
        foreach (var t in _order)
        {
            long offset = _offsets[t];
            while (writer.Count < offset) writer.Bytes(zeros[..(int)Math.Min(Alignment, offset - writer.Count)]);
            writer.Native(t.Pointer, t.ByteLength);
        }
    }
}
