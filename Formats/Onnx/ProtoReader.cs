using System.Text;

namespace FastInfer.Formats.Onnx;

/// <summary>
/// A bounds-checked protobuf wire reader over one message: a window [position, end) of a pinned or mapped buffer.
/// </summary>
/// <remarks>
/// Hand-written rather than Google.Protobuf because weights must be streamed straight from the file into 64-byte
/// aligned native memory (no second copy, no 2 GB ByteString limit), and every size read from the file must be
/// validated before anything is allocated. This reader never copies a length-delimited payload on its own: it
/// returns (offset, length) pairs, checked against the bytes actually present, and callers decide what to read.
/// Offsets are absolute within the source buffer so messages can name the byte where something went wrong.
/// </remarks>
internal unsafe struct ProtoReader
{
    private readonly byte* _base;
    private long _pos;
    private readonly long _end;
    private readonly OnnxParseContext _context;

    /// <summary>Where in the model this message sits, for error messages (e.g. <c>graph.node[3] 'Conv_1'</c>).</summary>
    public string Location { get; set; }

    public ProtoReader(byte* basePointer, long start, long end, OnnxParseContext context, string location)
    {
        _base = basePointer;
        _pos = start;
        _end = end;
        _context = context;
        Location = location;
    }

    public readonly long Position => _pos;
    public readonly long End => _end;
    public readonly bool AtEnd => _pos >= _end;
    public readonly OnnxParseContext Context => _context;

    public readonly ModelFormatException Error(string message) => _context.Error(message, Location, _pos);
    public readonly ModelFormatException Error(string message, long offset) => _context.Error(message, Location, offset);

    /// <summary>Reads the next tag; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out WireType wireType)
    {
        if (_pos >= _end) { field = 0; wireType = 0; return false; }
        long at = _pos;
        ulong tag = ReadVarint();
        ulong number = tag >> 3;
        if (number == 0 || number > (1u << 29) - 1) throw Error($"invalid field number {number}", at);
        wireType = (WireType)(tag & 7);
        if (wireType is WireType.StartGroup or WireType.EndGroup)
            throw Error($"protobuf groups (wire type {(int)wireType}, field {number}) are not used by ONNX", at);
        if ((int)wireType > 5) throw Error($"invalid wire type {(int)wireType} for field {number}", at);
        field = (int)number;
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        long at = _pos;
        // Ten bytes carry 64 bits; an eleventh would be a malformed (or hostile, endless) varint.
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _end) throw Error("truncated varint", at);
            byte b = _base[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Error("varint longer than 10 bytes", at);
    }

    public long ReadInt64() => (long)ReadVarint();

    /// <summary>An int32 or enum: negative values are sign-extended to ten bytes on the wire, so truncation is exact.</summary>
    public int ReadInt32() => (int)ReadVarint();

    public uint ReadFixed32()
    {
        if (_end - _pos < 4) throw Error("truncated fixed32 value");
        uint v = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_base + _pos, 4));
        _pos += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        if (_end - _pos < 8) throw Error("truncated fixed64 value");
        ulong v = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_base + _pos, 8));
        _pos += 8;
        return v;
    }

    public float ReadFloat() => BitConverter.Int32BitsToSingle((int)ReadFixed32());

    /// <summary>Reads a length prefix and returns the payload's absolute offset, leaving the reader after it.</summary>
    public (long Offset, long Length) ReadLengthDelimited()
    {
        long at = _pos;
        ulong len = ReadVarint();
        if (len > (ulong)(_end - _pos))
            throw Error($"length {len} runs past the end of the enclosing message ({_end - _pos} bytes left)", at);
        long offset = _pos;
        _pos += (long)len;
        return (offset, (long)len);
    }

    public string ReadString()
    {
        var (offset, length) = ReadLengthDelimited();
        return DecodeString(offset, length);
    }

    public readonly string DecodeString(long offset, long length)
    {
        if (length == 0) return "";
        if (length > int.MaxValue) throw Error("string longer than 2 GB", offset);
        return Encoding.UTF8.GetString(_base + offset, (int)length);
    }

    /// <summary>A reader over an embedded message field.</summary>
    public ProtoReader ReadMessage(string location)
    {
        var (offset, length) = ReadLengthDelimited();
        return new ProtoReader(_base, offset, offset + length, _context, location);
    }

    /// <summary>A reader over [offset, offset+length), which the caller got from this reader (so already bounds-checked).</summary>
    public readonly ProtoReader Slice(long offset, long length, string location) => new(_base, offset, offset + length, _context, location);

    public readonly byte* PointerAt(long offset) => _base + offset;

    /// <summary>Skips a field's value; used for fields FastInfer does not need (doc strings, annotations, ...).</summary>
    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: ReadFixed64(); break;
            case WireType.Fixed32: ReadFixed32(); break;
            case WireType.LengthDelimited: ReadLengthDelimited(); break;
            default: throw Error($"cannot skip wire type {(int)wireType}");
        }
    }

    /// <summary>Throws unless a known field arrived with the wire type its schema gives it.</summary>
    public readonly void Expect(int field, WireType actual, WireType expected, string fieldName)
    {
        if (actual != expected)
            throw Error($"field '{fieldName}' ({field}) has wire type {(int)actual}, expected {(int)expected}");
    }

    /// <summary>
    /// Counts the values of a repeated scalar field's occurrence without decoding them: for packed
    /// (length-delimited) payloads this walks the bytes, so a count read from the file is never trusted.
    /// </summary>
    public readonly long CountPacked(long offset, long length, WireType elementWire)
    {
        switch (elementWire)
        {
            case WireType.Fixed32:
                if (length % 4 != 0) throw Error($"packed fixed32 payload of {length} bytes is not a multiple of 4", offset);
                return length / 4;
            case WireType.Fixed64:
                if (length % 8 != 0) throw Error($"packed fixed64 payload of {length} bytes is not a multiple of 8", offset);
                return length / 8;
            default:
                long count = 0;
                long run = 0;
                for (long i = 0; i < length; i++)
                {
                    byte b = _base[offset + i];
                    if ((b & 0x80) == 0) { count++; run = 0; }
                    else if (++run >= 10) throw Error("varint longer than 10 bytes in packed field", offset + i);
                }
                if (length > 0 && (_base[offset + length - 1] & 0x80) != 0) throw Error("truncated varint in packed field", offset + length - 1);
                return count;
        }
    }

    /// <summary>
    /// Peeks at a string field (e.g. a name) of this message without moving, so errors raised while parsing the rest can
    /// name it. Any malformation makes it return null; the real parse reports it.
    /// </summary>
    public readonly string? PeekString(int wantedField)
    {
        var copy = this;
        string? found = null;
        try
        {
            while (copy.TryReadTag(out int field, out var wire))
            {
                if (field == wantedField && wire == WireType.LengthDelimited) found = copy.ReadString();
                else copy.Skip(wire);
            }
        }
        catch (ModelFormatException) { return found; }
        return found;
    }
}
