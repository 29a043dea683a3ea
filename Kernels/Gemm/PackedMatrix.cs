using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Platform;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// A constant GEMM operand (weights) packed once, at session creation, into the layout the micro-kernels
/// stream. Opaque to callers: only <see cref="Sgemm"/> reads it.
/// </summary>
public sealed class PackedMatrix : IDisposable
{
    internal PackedMatrix(AlignedBuffer buffer, int rows, int cols, bool isLeftOperand, IsaLevel isa, int panelWidth)
    {
        Buffer = buffer; Rows = rows; Cols = cols; IsLeftOperand = isLeftOperand; Isa = isa; PanelWidth = panelWidth;
    }

    /// <summary>The ISA tier whose micro-kernel tile the panels were cut for (A panels depend on it; B panels do not).</summary>
    public IsaLevel Isa { get; }
    /// <summary>Rows per A panel (the tier's Mr) or columns per B panel (16).</summary>
    public int PanelWidth { get; }

    internal AlignedBuffer Buffer { get; }
    /// <summary>Logical rows of op(X): M for a left operand, K for a right one.</summary>
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Packed as A (M×K) rather than as B (K×N).</summary>
    public bool IsLeftOperand { get; }
    public long ByteLength => Buffer.ByteLength;

    public void Dispose() => Buffer.Dispose();
}
