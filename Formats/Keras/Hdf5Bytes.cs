using Microsoft.Win32.SafeHandles;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Random-access reads over an HDF5 file's bytes (a file on disk, a seekable stream or an array) for the checks that
/// run before PureHDF. Every block read is checked against the file length first, so a size taken from the file can
/// never make the checks themselves allocate more than the file holds.
/// </summary>
internal sealed class Hdf5Bytes
{
    public delegate int ReadAt(long offset, Span<byte> buffer);

    private readonly ReadAt _read;

    public long Length { get; }

    private Hdf5Bytes(long length, ReadAt read)
    {
        Length = length;
        _read = read;
    }

    public static Hdf5Bytes Of(SafeFileHandle handle) =>
        new(RandomAccess.GetLength(handle), (offset, buffer) => RandomAccess.Read(handle, buffer, offset));

    public static Hdf5Bytes Of(byte[] bytes) =>
        new(bytes.Length, (offset, buffer) =>
        {
            int n = (int)Math.Min(buffer.Length, bytes.Length - offset);
            bytes.AsSpan((int)offset, n).CopyTo(buffer);
            return n;
        });

    /// <summary>A seekable stream; its position is left wherever the last read put it (callers rewind).</summary>
    public static Hdf5Bytes Of(Stream stream) =>
        new(stream.Length, (offset, buffer) =>
        {
            stream.Position = offset;
            int total = 0;
            while (total < buffer.Length)
            {
                int n = stream.Read(buffer[total..]);
                if (n <= 0) break;
                total += n;
            }
            return total;
        });

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; fewer at the end of the file.</summary>
    public int Read(long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset >= Length) return 0;
        if (buffer.Length > Length - offset) buffer = buffer[..(int)(Length - offset)];
        return _read(offset, buffer);
    }

    /// <summary>True when <paramref name="count"/> bytes at <paramref name="address"/> lie inside the file.</summary>
    public bool Holds(ulong address, ulong count) =>
        address < (ulong)Length && count <= (ulong)Length - address;

    /// <summary>
    /// Reads exactly <paramref name="count"/> bytes at <paramref name="address"/>, which must lie inside the file and be
    /// at most <paramref name="cap"/> bytes; otherwise <paramref name="what"/> is reported as corrupt.
    /// </summary>
    public byte[] Block(ulong address, ulong count, string what, long cap = Hdf5Check.MaxBlockBytes)
    {
        if (!Holds(address, count))
            throw Hdf5Check.Corrupt(what, address, $"{count} bytes at this address run past the end of the file ({Length} bytes)");
        if (count > (ulong)cap)
            throw Hdf5Check.Corrupt(what, address, $"it declares {count} bytes, more than the {cap} this reader accepts for one metadata block");
        var block = new byte[(int)count];
        if (Read((long)address, block) != block.Length)
            throw Hdf5Check.Corrupt(what, address, "the file could not be read here");
        return block;
    }
}
