using System.Buffers.Binary;
using System.Text;

namespace FastInfer.Formats.Fim;

/// <summary>Little-endian writer for the graph section (small: weights never pass through it).</summary>
internal sealed class FimSectionWriter
{
    private readonly MemoryStream _stream = new();

    public long Length => _stream.Length;
    public ReadOnlySpan<byte> Bytes => _stream.GetBuffer().AsSpan(0, (int)_stream.Length);

    public void U8(byte v) => _stream.WriteByte(v);
    public void Bool(bool v) => U8(v ? (byte)1 : (byte)0);

    public void I32(int v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        _stream.Write(b);
    }

    public void I64(long v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, v);
        _stream.Write(b);
    }

    public void U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        _stream.Write(b);
    }

    public void F32(float v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, v);
        _stream.Write(b);
    }

    public void Count(int n) => I32(n);

    public void Str(string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        I32(b.Length);
        _stream.Write(b);
    }
}
