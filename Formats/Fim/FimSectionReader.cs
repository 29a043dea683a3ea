using System.Buffers.Binary;
using System.Text;

namespace FastInfer.Formats.Fim;

/// <summary>
/// A bounds-checked little-endian reader over the graph section. Every read checks the bytes left; every count is
/// checked against the bytes left (each element takes at least one byte) and the reader limits before anything is
/// allocated, so a hostile count fails with a <see cref="ModelFormatException"/> naming the field instead of allocating.
/// </summary>
internal ref struct FimSectionReader
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly long _sectionOffset;
    private readonly string? _file;
    private readonly ReaderLimits _limits;
    private int _pos;

    public FimSectionReader(ReadOnlySpan<byte> bytes, long sectionOffset, string? file, ReaderLimits limits)
    {
        _bytes = bytes; _sectionOffset = sectionOffset; _file = file; _limits = limits; _pos = 0;
    }

    public readonly bool AtEnd => _pos >= _bytes.Length;
    public readonly string? File => _file;
    public readonly ReaderLimits Limits => _limits;

    public readonly ModelFormatException Error(string message, string field) =>
        new($"{message} (at byte {_sectionOffset + _pos})", _file, field);

    private ReadOnlySpan<byte> Take(int n, string field)
    {
        if (n < 0 || n > _bytes.Length - _pos) throw Error($"truncated: {n} bytes needed, {_bytes.Length - _pos} left", field);
        var s = _bytes.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public byte U8(string field) => Take(1, field)[0];
    public int I32(string field) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, field));
    public long I64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));
    public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));
    public float F32(string field) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, field));

    /// <summary>A count of items that each take at least <paramref name="minItemBytes"/> bytes.</summary>
    public int Count(string field, int minItemBytes = 1, long max = long.MaxValue)
    {
        int n = I32(field);
        if (n < 0) throw Error($"negative count {n}", field);
        long limit = Math.Min(max, _limits.MaxListLength);
        if (n > limit) throw Error($"count {n} exceeds the limit of {limit}", field);
        if ((long)n * Math.Max(1, minItemBytes) > _bytes.Length - _pos)
            throw Error($"count {n} needs more bytes than the {_bytes.Length - _pos} left in the graph section", field);
        return n;
    }

    public string Str(string field)
    {
        int n = I32(field);
        if (n < 0) throw Error($"negative string length {n}", field);
        var bytes = Take(n, field);
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Error("string is not valid UTF-8", field); }
    }

    public bool Bool(string field) => U8(field) switch
    {
        0 => false,
        1 => true,
        var v => throw Error($"invalid boolean {v}", field),
    };
}
