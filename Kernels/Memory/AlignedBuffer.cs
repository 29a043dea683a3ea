using System.Runtime.InteropServices;

namespace FastInfer.Kernels.Memory;

/// <summary>64-byte aligned native memory for packed weights and scratch; freed on Dispose.</summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    public const int Alignment = 64;
    private void* _pointer;

    public long ByteLength { get; }

    public AlignedBuffer(long byteLength, bool zero = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        ByteLength = byteLength;
        // Round up to whole cache lines so a kernel's last full-vector load stays inside the block.
        nuint size = (nuint)Math.Max(Alignment, (byteLength + Alignment - 1) / Alignment * Alignment);
        _pointer = FastInfer.Memory.NativeAllocation.Alloc(size, Alignment);
        if (zero) NativeMemory.Clear(_pointer, size);
    }

    public void* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(AlignedBuffer));
    public float* Floats => (float*)Pointer;

    public void Dispose()
    {
        if (_pointer == null) return;
        FastInfer.Memory.NativeAllocation.Free(_pointer);
        _pointer = null;
        GC.SuppressFinalize(this);
    }

    ~AlignedBuffer() { Dispose(); }
}
