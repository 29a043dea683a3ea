using FastInfer.Kernels.Gemm.MicroKernels;
using FastInfer.Kernels.Platform;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// Where constant GEMM operands may already exist packed (a <c>.fim</c> file written with pre-packed weights), and where
/// the operands a session packs itself are offered (to write such a file). Keys are the caller's; a stored operand is
/// used only when its byte length is exactly what packing would produce.
/// </summary>
public unsafe interface IPackedOperandStore
{
    /// <summary>
    /// The stored panels under <paramref name="key"/> when they hold exactly <paramref name="bytes"/> bytes, 64-byte
    /// aligned and readable up to the next 64-byte boundary; else null.
    /// </summary>
    float* Find(string key, long bytes);

    /// <summary>Called with every operand packed here rather than found (valid only during the call).</summary>
    void Offer(string key, float* data, long bytes);
}

/// <summary>Names the packed layouts an ISA tier's kernels read, so that operands packed for one are never used by another.</summary>
public static class PackedLayout
{
    /// <summary>Bump whenever a packed layout changes: A panel order, B panel width, the Winograd transform.</summary>
    private const int Version = 1;

    /// <summary>The fingerprint of the layouts <paramref name="isa"/>'s kernels read.</summary>
    public static string Fingerprint(IsaLevel isa)
    {
        var kernel = SgemmKernelTable.For(isa);
        return $"fastinfer-packed-v{Version};isa={kernel.Isa};a-panel={kernel.Mr};b-panel=16;winograd=f43";
    }
}
