using System.Buffers;

namespace FastInfer.Formats.Keras;

/// <summary>
/// A <see cref="Memory{T}"/> over native memory the graph owns (fixed, so pinning is a no-op), letting PureHDF read a
/// dataset directly into an initializer's buffer.
/// </summary>
internal sealed unsafe class NativeFloatMemory : MemoryManager<float>
{
    private readonly float* _pointer;
    private readonly int _length;

    public NativeFloatMemory(nint pointer, int length)
    {
        _pointer = (float*)pointer; _length = length;
    }

    public override Span<float> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)_length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin() { }

    protected override void Dispose(bool disposing) { }
}
