using System.Runtime.InteropServices;

namespace FastInfer.Ir;

/// <summary>
/// Memory at a stable address that outlives the managed heap's moves: weights, arenas, packed panels.
/// Kernels take raw pointers, so everything they read lives in a block like this.
/// </summary>
public abstract class MemoryBlock : IDisposable
{
    public abstract nint Pointer { get; }
    public abstract long ByteLength { get; }
    public abstract void Dispose();

    public unsafe Span<byte> Bytes => ByteLength <= int.MaxValue
        ? new Span<byte>((void*)Pointer, (int)ByteLength)
        : throw new InvalidOperationException($"A block of {ByteLength} bytes is too large for a span; use the pointer.");
}

/// <summary>64-byte aligned native memory (one cache line, one AVX-512 register), freed on Dispose.</summary>
public sealed unsafe class NativeMemoryBlock : MemoryBlock
{
    public const int Alignment = 64;
    private void* _pointer;
    private readonly long _length;

    /// <param name="byteLength">Bytes to allocate; 0 is allowed and gives a valid, aligned address.</param>
    /// <param name="zero">Whether to clear the memory.</param>
    public NativeMemoryBlock(long byteLength, bool zero = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        _length = byteLength;
        // Round up so vector loads that read a whole last register never leave the block.
        nuint size = (nuint)((byteLength + Alignment - 1) / Alignment * Alignment);
        if (size == 0) size = Alignment;
        _pointer = FastInfer.Memory.NativeAllocation.Alloc(size, Alignment);
        if (zero) NativeMemory.Clear(_pointer, size);
        GC.AddMemoryPressure(Math.Max(1, byteLength));
    }

    public override nint Pointer => _pointer == null ? throw new ObjectDisposedException(nameof(NativeMemoryBlock)) : (nint)_pointer;
    public override long ByteLength => _length;

    public override void Dispose()
    {
        if (_pointer == null) return;
        FastInfer.Memory.NativeAllocation.Free(_pointer);
        _pointer = null;
        GC.RemoveMemoryPressure(Math.Max(1, _length));
        GC.SuppressFinalize(this);
    }

    ~NativeMemoryBlock() { Dispose(); }
}
