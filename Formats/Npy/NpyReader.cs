using System.Buffers.Binary;
using System.Text;
using FastInfer.Ir;

namespace FastInfer.Formats.Npy;

/// <summary>
/// Reads NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0): magic <c>\x93NUMPY</c>, a version, a header
/// length (2 bytes in 1.0, 4 bytes after), a dict-literal header, then the raw elements. Every number read from the
/// file is checked before it sizes anything: the element bytes must be exactly what the rest of the file holds,
/// so nothing larger than the file is ever allocated. Fortran order and object/structured dtypes are refused.
/// </summary>
public static class NpyReader
{
    /// <summary>Headers larger than this are refused (NumPy writes a few hundred bytes).</summary>
    public const int MaxHeaderBytes = 1 << 20;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static NpyArray Read(string path, ReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= ReaderLimits.Default;
        if (!File.Exists(path)) throw new FileNotFoundException($"File not found: {path}", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, stream.Length, limits, path);
    }

    public static NpyArray Read(ReadOnlySpan<byte> bytes, ReaderLimits? limits = null, string? sourceName = null)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        return Read(stream, bytes.Length, limits ?? ReaderLimits.Default, sourceName);
    }

    private static NpyArray Read(Stream stream, long length, ReaderLimits limits, string? file)
    {
        if (length > limits.MaxFileBytes)
            throw new ModelFormatException($"the file is {length} bytes, over the limit of {limits.MaxFileBytes} (ReaderLimits.MaxFileBytes)", file);
        Span<byte> prefix = stackalloc byte[12];
        int got = ReadFully(stream, prefix[..8]);
        if (got < 8 || !prefix[..6].SequenceEqual(Magic))
            throw new ModelFormatException("not a NumPy .npy file (the magic bytes \\x93NUMPY are missing)", file, "npy magic");
        byte major = prefix[6], minor = prefix[7];
        long headerLength;
        int prefixLength;
        if (major == 1)
        {
            if (ReadFully(stream, prefix.Slice(8, 2)) < 2) throw Truncated(file, "header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
            prefixLength = 10;
        }
        else if (major is 2 or 3)
        {
            if (ReadFully(stream, prefix.Slice(8, 4)) < 4) throw Truncated(file, "header length");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            prefixLength = 12;
        }
        else throw new ModelFormatException($"unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are read)", file, "npy version");
        if (headerLength > MaxHeaderBytes)
            throw new ModelFormatException($"the header is {headerLength} bytes, over the limit of {MaxHeaderBytes}", file, "npy header length");
        if (prefixLength + headerLength > length) throw Truncated(file, "header");

        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) < headerLength) throw Truncated(file, "header");
        string header;
        try
        {
            // Versions 1 and 2 are latin-1 (ASCII in practice); 3 is UTF-8. Anything outside ASCII cannot be a valid dict here anyway.
            header = major == 3 ? new UTF8Encoding(false, true).GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new ModelFormatException("the header is not valid UTF-8", file, "npy header", e);
        }

        var (descr, fortran, shape) = NpyHeaderParser.Parse(header.AsSpan().TrimEnd("\n\r\0 "), file, limits);
        if (descr.Length >= 2 && descr[1] == 'O')
            throw new ModelFormatException("object arrays (dtype 'O', pickled Python objects) are not supported; save a numeric array", file, "npy header field 'descr'");
        var type = NpyDescr.Parse(descr, out bool swap)
            ?? throw new ModelFormatException($"unsupported dtype '{descr}' (supported: float16/32/64, int8/16/32/64, uint8/16/32/64, bool)", file, "npy header field 'descr'");
        if (fortran && shape.Count(d => d > 1) > 1)
            throw new ModelFormatException("Fortran-order (column-major) arrays are not supported; save with np.ascontiguousarray(x)", file, "npy header field 'fortran_order'");

        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
            if (count > limits.MaxTensorBytes) // cheap early stop before overflow; bytes are checked exactly below
                throw new ModelFormatException($"the array holds more than {limits.MaxTensorBytes} elements (ReaderLimits.MaxTensorBytes)", file, "npy header field 'shape'");
        }
        long bytes = count * type.SizeInBytes();
        if (bytes > limits.MaxTensorBytes)
            throw new ModelFormatException($"the array is {bytes} bytes, over the limit of {limits.MaxTensorBytes} (ReaderLimits.MaxTensorBytes)", file, "npy header field 'shape'");
        long available = length - prefixLength - headerLength;
        if (available != bytes)
            throw new ModelFormatException(
                $"shape ({string.Join(", ", shape)}) of {type.ToName()} needs {bytes} data bytes but the file holds {available}" +
                (available < bytes ? " (truncated)" : " (trailing bytes)"), file, "npy data");
        if (bytes > Array.MaxLength)
            throw new ModelFormatException($"the array is {bytes} bytes; arrays over {Array.MaxLength} bytes are not supported", file, "npy data");

        var data = new byte[bytes];
        if (ReadFully(stream, data) < bytes) throw Truncated(file, "data");
        if (swap) SwapBytes(data, type.SizeInBytes());
        return new NpyArray(type, shape, data);
    }

    private static void SwapBytes(Span<byte> data, int size)
    {
        for (int i = 0; i + size <= data.Length; i += size) data.Slice(i, size).Reverse();
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static ModelFormatException Truncated(string? file, string what) =>
        new("the file is truncated", file, $"npy {what}");
}
