namespace FastInfer.Ir;

/// <summary>
/// Constant operands already in a kernel's layout (packed GEMM panels, Winograd-transformed filters), kept in a
/// <c>.fim</c> file beside the plain weights. A session whose kernels lay operands out as <see cref="Fingerprint"/> says
/// uses them in place instead of packing at load; any other session ignores them and packs from the plain weights.
/// </summary>
public sealed class PrepackedWeights
{
    public PrepackedWeights(string fingerprint)
    {
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        Fingerprint = fingerprint;
    }

    /// <summary>The packed layout: format version, ISA tier and tile sizes (the runtime's kernels name theirs).</summary>
    public string Fingerprint { get; }

    /// <summary>One float32 blob per operand, keyed by the runtime (node, weight, part).</summary>
    public Dictionary<string, TensorData> Blobs { get; } = new(StringComparer.Ordinal);

    /// <summary>Bytes of all blobs.</summary>
    public long ByteLength => Blobs.Values.Sum(t => t.ByteLength);
}
