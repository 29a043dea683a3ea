using System.Buffers.Binary;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Little-endian reads over one HDF5 metadata block (an object header message, a B-tree node, ...) that never step past
/// its end: a field that would is reported as corrupt, naming the structure and the file offset of the field.
/// </summary>
internal ref struct Hdf5Cursor(ReadOnlySpan<byte> data, ulong origin, string what)
{
    /// <summary>A defined-nowhere address (all bits set), HDF5's "undefined address".</summary>
    public const ulong Undefined = ulong.MaxValue;

    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }
    public readonly int Remaining => _data.Length - Position;
    public readonly ulong FileOffset => origin + (ulong)Position;
    public readonly string What => what;

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>An unsigned integer of 1 to 8 bytes (HDF5 stores some lengths in as few bytes as they need).</summary>
    public ulong UInt(int bytes)
    {
        var b = Take((ulong)bytes);
        ulong v = 0;
        for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | b[i];
        return v;
    }

    /// <summary>Index of the next <paramref name="value"/> from the current position, or -1 if the block has none.</summary>
    public readonly int IndexOf(byte value) => _data[Position..].IndexOf(value);

    public ReadOnlySpan<byte> Take(ulong count)
    {
        Need(count);
        var span = _data.Slice(Position, (int)count);
        Position += (int)count;
        return span;
    }

    public void Skip(ulong count)
    {
        Need(count);
        Position += (int)count;
    }

    /// <summary>Moves to an absolute position inside the block (as PureHDF does after a sub-structure).</summary>
    public void MoveTo(ulong position)
    {
        if (position > (ulong)_data.Length)
            throw Hdf5Check.Corrupt(what, origin + position, $"a field would start past the end of the {_data.Length}-byte block");
        Position = (int)position;
    }

    public readonly void Need(ulong count)
    {
        if (count > (ulong)Remaining)
            throw Hdf5Check.Corrupt(what, FileOffset, $"a field of {count} bytes runs past the end of the block ({Remaining} bytes left)");
    }
}
