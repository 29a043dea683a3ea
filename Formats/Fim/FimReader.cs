using FastInfer.Formats.IO;
using System.IO.Hashing;
using FastInfer.Ir;
using Microsoft.Win32.SafeHandles;

namespace FastInfer.Formats.Fim;

/// <summary>
/// Reads <c>.fim</c> files (layout in <see cref="FimLayout"/>). Every offset, length and count in the file is treated as
/// hostile: checked against the file's real size, the data area and <see cref="ReaderLimits"/> before use. Weights are
/// either used in place from a read-only memory map (<see cref="WeightPlacement.Mapped"/>) or copied once into
/// 64-byte aligned native memory (<see cref="WeightPlacement.Pinned"/>; large tensors read on several threads), then hashed.
/// </summary>
public static class FimReader
{
    private const int Chunk = 4 << 20;

    /// <summary>Loads a <c>.fim</c> file; placement and checksum verification come from <paramref name="limits"/>.</summary>
    public static ModelGraph Load(string path, ReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= ReaderLimits.Default;
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file not found: {path}", path);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = RandomAccess.GetLength(handle);

        Span<byte> headerBytes = stackalloc byte[FimLayout.HeaderSize];
        int got = RandomAccess.Read(handle, headerBytes, 0);
        var header = FimHeader.Read(headerBytes[..got], length, path);
        if (header.GraphLength > limits.MaxFileBytes || header.GraphLength > Array.MaxLength)
            throw new ModelFormatException($"graph section of {header.GraphLength} bytes exceeds the limit of {Math.Min(limits.MaxFileBytes, Array.MaxLength)} (ReaderLimits.MaxFileBytes)", path, "header.graph_length");
        var section = new byte[header.GraphLength];
        ReadExactly(handle, header.GraphOffset, section, path);
        if (FimLayout.Hash(section) != header.GraphHash)
            throw new ModelFormatException("graph section checksum mismatch: the file is corrupt", path, "graph");

        var reader = new FimSectionReader(section, header.GraphOffset, path, limits);
        var entries = FimGraphCodec.ReadDirectory(ref reader, header.GraphOffset);
        var graph = new ModelGraph { SourcePath = path, SourceFormat = "fim" };
        try
        {
            var tensors = Materialize(graph, handle, length, entries, limits, path);
            FimGraphCodec.ReadModel(ref reader, graph, tensors, header.Minor);
            return graph;
        }
        catch
        {
            graph.Dispose();
            throw;
        }
    }

    private static unsafe TensorData[] Materialize(ModelGraph graph, SafeFileHandle handle, long fileLength, FimTensorEntry[] entries, ReaderLimits limits, string path)
    {
        var tensors = new TensorData[entries.Length];
        ReadOnlyFileMapping? mapping = null;
        if (limits.WeightPlacement == WeightPlacement.Mapped && Array.Exists(entries, e => e.Length > 0))
        {
            mapping = new ReadOnlyFileMapping(handle, fileLength);
            graph.Own(mapping);
        }
        var hasher = new XxHash3();
        for (int i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (e.Strings is not null)
            {
                tensors[i] = new TensorData(e.Name, e.Type, e.Dims, 0, 0) { Strings = e.Strings };
                continue;
            }
            nint pointer;
            if (e.Length == 0) pointer = graph.Allocate(0).Pointer;
            else if (mapping is not null)
            {
                pointer = (nint)(mapping.Pointer + e.Offset);
                if (limits.VerifyTensorChecksums)
                {
                    hasher.Reset();
                    for (long done = 0; done < e.Length; done += Chunk)
                        hasher.Append(new ReadOnlySpan<byte>((byte*)pointer + done, (int)Math.Min(Chunk, e.Length - done)));
                    Check(hasher, e, i, path);
                }
            }
            else
            {
                var block = graph.Allocate(e.Length, zero: false);
                pointer = block.Pointer;
                // Read first (large tensors on several threads), then hashed from memory in one pass.
                ParallelFileRead.ReadExactly(handle, e.Offset, (byte*)pointer, e.Length, path);
                if (limits.VerifyTensorChecksums)
                {
                    hasher.Reset();
                    for (long done = 0; done < e.Length; done += Chunk)
                        hasher.Append(new ReadOnlySpan<byte>((byte*)pointer + done, (int)Math.Min(Chunk, e.Length - done)));
                    Check(hasher, e, i, path);
                }
            }
            tensors[i] = new TensorData(e.Name, e.Type, e.Dims, pointer, e.Length);
        }
        return tensors;
    }

    private static void Check(XxHash3 hasher, FimTensorEntry e, int index, string path)
    {
        if (hasher.GetCurrentHashAsUInt64() != e.Hash)
            throw new ModelFormatException($"checksum mismatch in the data of tensor '{e.Name}': the file is corrupt", path, $"tensor_directory[{index}] '{e.Name}'");
    }

    private static unsafe void ReadExactly(SafeFileHandle handle, long offset, Span<byte> destination, string path)
    {
        fixed (byte* p = destination) ParallelFileRead.ReadExactly(handle, offset, p, destination.Length, path);
    }
}
