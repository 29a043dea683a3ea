using System.Runtime.InteropServices;

namespace FastInfer.Kernels.Memory;

/// <summary>64-byte aligned native memory for packed weights and scratch; freed on Dispose (unless a <see cref="View"/>).</summary>
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

    private AlignedBuffer(void* pointer, long byteLength)
    {
        _pointer = pointer;
        ByteLength = byteLength;
        _borrowed = true;
        GC.SuppressFinalize(this);
    }

    /// <summary>Memory owned elsewhere (a mapped or loaded pre-packed weight) seen as a buffer; Dispose leaves it alone.</summary>
    public static AlignedBuffer View(void* pointer, long byteLength)
    {
        if (((nint)pointer & (Alignment - 1)) != 0) throw new ArgumentException("A buffer view must start on a 64-byte boundary.", nameof(pointer));
        return new AlignedBuffer(pointer, byteLength);
    }

    private readonly bool _borrowed;

    public void* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(AlignedBuffer));
    public float* Floats => (float*)Pointer;

    public void Dispose()
    {
        if (_pointer == null) return;
        if (!_borrowed) FastInfer.Memory.NativeAllocation.Free(_pointer);
        _pointer = null;
        GC.SuppressFinalize(this);
    }

    ~AlignedBuffer() { Dispose(); }
}
