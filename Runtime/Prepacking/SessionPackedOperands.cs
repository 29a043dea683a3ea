using FastInfer.Ir;
using FastInfer.Kernels.Gemm;

namespace FastInfer.Runtime.Prepacking;

/// <summary>
/// A session's <see cref="IPackedOperandStore"/>: serves the blobs of a pre-packed <c>.fim</c> when its fingerprint is the
/// one this session's kernels read (any other fingerprint: every operand is packed at load, as without blobs), counts
/// what it served and what had to be packed, and — while a pre-packed file is being written — records each operand
/// packed here. The blob dictionary is only read, so plans built on several threads at once may share it.
/// </summary>
internal sealed unsafe class SessionPackedOperands : IPackedOperandStore
{
    private readonly Dictionary<string, TensorData>? _blobs;
    private readonly Action<string, nint, long>? _record;
    private int _found, _packed;

    public SessionPackedOperands(ModelGraph graph, string fingerprint, Action<string, nint, long>? record)
    {
        Fingerprint = fingerprint;
        if (graph.Prepacked is { } prepacked && prepacked.Fingerprint == fingerprint) _blobs = prepacked.Blobs;
        _record = record;
    }

    /// <summary>The layout this session's kernels read.</summary>
    public string Fingerprint { get; }

    /// <summary>Operands served from the file / packed at load so far.</summary>
    public PackedOperandCounts Counts => new(Volatile.Read(ref _found), Volatile.Read(ref _packed));

    /// <summary>
    /// The key prefix of a node's packed weight: its first output and its weight input (input 1), both stable across
    /// sessions that run the same passes. A node without them — it fails its arity check when planned — gets "|".
    /// </summary>
    public static string KeyFor(Node node) =>
        (node.Outputs.Count > 0 ? node.Outputs[0] : "") + "|" + (node.Inputs.Count > 1 ? node.Inputs[1] : "");

    /// <summary>Blobs are stored padded to whole 64-byte lines (kernels may read a full vector past the last value).</summary>
    public static long StoredBytes(long bytes) => (bytes + 63) & ~63L;

    public float* Find(string key, long bytes)
    {
        if (_blobs is null || !_blobs.TryGetValue(key, out var blob)) return null;
        if (blob.ByteLength != StoredBytes(bytes) || (blob.Pointer & 63) != 0) return null;
        Interlocked.Increment(ref _found);
        return (float*)blob.Pointer;
    }

    public void Offer(string key, float* data, long bytes)
    {
        Interlocked.Increment(ref _packed);
        _record?.Invoke(key, (nint)data, bytes);
    }
}

/// <summary>How a session came by its packed weights: <paramref name="FromFile"/> used in place from a pre-packed
/// <c>.fim</c>, <paramref name="PackedAtLoad"/> packed from the plain weights.</summary>
public readonly record struct PackedOperandCounts(int FromFile, int PackedAtLoad);
