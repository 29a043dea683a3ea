using System.IO.Hashing;
using FastInfer.Ir;

namespace FastInfer.Formats.Fim;

/// <summary>
/// Writes a <see cref="ModelGraph"/> as a <c>.fim</c> file (layout in <see cref="FimLayout"/>). Streams: each tensor is
/// copied from its native memory to the file in chunks and hashed on the way, so a 4 GB model needs no 4 GB buffer.
/// </summary>
public static class FimWriter
{
    private const int Chunk = 4 << 20;

    public static unsafe void Save(ModelGraph graph, string path, FimWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(path);
        var tensors = CollectTensors(graph);
        var index = new Dictionary<TensorData, int>(ReferenceEqualityComparer.Instance);
        var offsets = new long[tensors.Count];
        long next = FimLayout.DataAlignment, total = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            index[tensors[i]] = i;
            if (tensors[i].Strings is not null) continue;
            offsets[i] = next;
            next = FimLayout.AlignUp(next + tensors[i].ByteLength);
            total += tensors[i].ByteLength;
        }

        string temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var entries = new FimTensorEntry[tensors.Count];
                var zeros = new byte[FimLayout.DataAlignment];
                stream.Write(zeros);
                long written = 0;
                var hasher = new XxHash3();
                for (int i = 0; i < tensors.Count; i++)
                {
                    var t = tensors[i];
                    if (t.Strings is not null)
                    {
                        entries[i] = new FimTensorEntry(t.Name, t.ElementType, t.Dims, 0, 0, 0, t.Strings);
                        continue;
                    }
                    while (stream.Position < offsets[i]) stream.Write(zeros, 0, (int)Math.Min(zeros.Length, offsets[i] - stream.Position));
                    hasher.Reset();
                    for (long done = 0; done < t.ByteLength; done += Chunk)
                    {
                        var span = new ReadOnlySpan<byte>((byte*)t.Pointer + done, (int)Math.Min(Chunk, t.ByteLength - done));
                        hasher.Append(span);
                        stream.Write(span);
                        written += span.Length;
                        options?.Progress?.Invoke(written, total);
                    }
                    entries[i] = new FimTensorEntry(t.Name, t.ElementType, t.Dims, offsets[i], t.ByteLength, hasher.GetCurrentHashAsUInt64(), null);
                }
                long graphOffset = Math.Max(stream.Position, next);
                while (stream.Position < graphOffset) stream.Write(zeros, 0, (int)Math.Min(zeros.Length, graphOffset - stream.Position));

                var section = new FimSectionWriter();
                FimGraphCodec.WriteDirectory(section, entries);
                FimGraphCodec.WriteModel(section, graph, index);
                stream.Write(section.Bytes);

                Span<byte> header = stackalloc byte[FimLayout.HeaderSize];
                new FimHeader(FimLayout.Major, FimLayout.Minor, 0, stream.Length, graphOffset, section.Length, FimLayout.Hash(section.Bytes)).Write(header);
                stream.Position = 0;
                stream.Write(header);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Every distinct tensor (initializers and attribute tensors, subgraphs included), in a stable order.</summary>
    private static List<TensorData> CollectTensors(ModelGraph graph)
    {
        var list = new List<TensorData>();
        var seen = new HashSet<TensorData>(ReferenceEqualityComparer.Instance);
        void Add(TensorData t) { if (seen.Add(t)) list.Add(t); }
        void Walk(ModelGraph g)
        {
            foreach (var t in g.Initializers.Values) Add(t);
            foreach (var n in g.Nodes)
                foreach (var a in n.Attributes.Values)
                {
                    if (a.Tensor is not null) Add(a.Tensor);
                    if (a.Tensors is not null) foreach (var t in a.Tensors) Add(t);
                    if (a.Graph is not null) Walk(a.Graph);
                    if (a.Graphs is not null) foreach (var s in a.Graphs) Walk(s);
                }
        }
        Walk(graph);
        if (graph.Prepacked is { } prepacked) foreach (var t in prepacked.Blobs.Values) Add(t);
        return list;
    }
}
