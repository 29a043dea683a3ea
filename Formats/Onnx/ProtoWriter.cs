using System.Text;

namespace FastInfer.Formats.Onnx;

/// <summary>
/// A minimal protobuf wire writer that streams to a <see cref="Stream"/>, or only counts bytes. Embedded messages need
/// their length before their content, so each is measured first with a counting writer; payloads such as weights are
/// only counted when measuring, and copied straight from native memory in chunks when writing, so no byte[] of a whole
/// tensor or of the whole model is ever built.
/// </summary>
internal sealed unsafe class ProtoWriter
{
    private readonly Stream? _out;

    /// <summary>Bytes written (or that would be written, when measuring).</summary>
    public long Count { get; private set; }

    private ProtoWriter(Stream? output) => _out = output;

    public static ProtoWriter To(Stream output) => new(output);
    public static ProtoWriter Measuring() => new(null);

    public void Tag(int field, WireType wire) => Varint(((ulong)field << 3) | (ulong)wire);

    public void Varint(ulong value)
    {
        Span<byte> buf = stackalloc byte[10];
        int n = 0;
        while (value >= 0x80) { buf[n++] = (byte)(value | 0x80); value >>= 7; }
        buf[n++] = (byte)value;
        Bytes(buf[..n]);
    }

    public static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        _out?.Write(bytes);
        Count += bytes.Length;
    }

    /// <summary>Copies native memory to the output in chunks (tensors may exceed 2 GB).</summary>
    public void Native(nint pointer, long length)
    {
        if (_out is not null)
        {
            const int Chunk = 1 << 20;
            for (long done = 0; done < length; done += Chunk)
                _out.Write(new ReadOnlySpan<byte>((byte*)pointer + done, (int)Math.Min(Chunk, length - done)));
        }
        Count += length;
    }

    public void Int64Field(int field, long value) { Tag(field, WireType.Varint); Varint((ulong)value); }

    public void Fixed32Field(int field, uint value)
    {
        Tag(field, WireType.Fixed32);
        Span<byte> b = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Bytes(b);
    }

    public void StringField(int field, string value)
    {
        Tag(field, WireType.LengthDelimited);
        int n = Encoding.UTF8.GetByteCount(value);
        Varint((ulong)n);
        if (_out is null) { Count += n; return; }
        Bytes(Encoding.UTF8.GetBytes(value));
    }

    public void NativeField(int field, nint pointer, long length)
    {
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)length);
        Native(pointer, length);
    }

    /// <summary>Writes an embedded message: measures <paramref name="body"/>, writes the length, then the body.</summary>
    public void Message<T>(int field, T state, Action<ProtoWriter, T> body)
    {
        var measure = Measuring();
        body(measure, state);
        Tag(field, WireType.LengthDelimited);
        Varint((ulong)measure.Count);
        if (_out is null) { Count += measure.Count; return; }
        long before = Count;
        body(this, state);
        if (Count - before != measure.Count) throw new InvalidOperationException("protobuf message size changed between measuring and writing");
    }
}
