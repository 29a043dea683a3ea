using FastInfer.Kernels.Memory;

namespace FastInfer.Kernels.Gemm;

/// <summary>
/// A constant GEMM operand (weights) packed once, at session creation, into the layout the micro-kernels
/// stream. Opaque to callers: only <see cref="Sgemm"/> reads it.
/// </summary>
public sealed class PackedMatrix : IDisposable
{
    internal PackedMatrix(AlignedBuffer buffer, int rows, int cols, bool isLeftOperand)
    {
        Buffer = buffer; Rows = rows; Cols = cols; IsLeftOperand = isLeftOperand;
    }

    internal AlignedBuffer Buffer { get; }
    /// <summary>Logical rows of op(X): M for a left operand, K for a right one.</summary>
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Packed as A (M×K) rather than as B (K×N).</summary>
    public bool IsLeftOperand { get; }
    public long ByteLength => Buffer.ByteLength;

    public void Dispose() => Buffer.Dispose();
}
