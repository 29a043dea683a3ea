using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Checks the HDF5 global heap collections (where variable-length strings such as <c>model_config</c> live) before
/// PureHDF reads them. PureHDF 2.2 allocates each heap object's declared size before reading it, so a corrupt or
/// hostile size made it allocate up to 2 GB (found by the fuzz tests). Every collection ("GCOL", version 1) must fit
/// in the file and every object in its collection; a file that breaks this is rejected.
/// </summary>
internal static class Hdf5HeapCheck
{
    private static ReadOnlySpan<byte> HdfMagic => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];
    private static ReadOnlySpan<byte> Signature => "GCOL\u0001\0\0\0"u8;
    private const int HeaderBytes = 16;   // signature, version, reserved, collection size (8-byte lengths)

    /// <summary>Scans a file on disk.</summary>
    public static void Check(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = RandomAccess.GetLength(handle);
        Check(length, (offset, buffer) => RandomAccess.Read(handle, buffer, offset), path);
    }

    /// <summary>Scans bytes in memory (the weights inside a .keras zip).</summary>
    public static void Check(byte[] bytes, string? file) =>
        Check(bytes.Length, (offset, buffer) =>
        {
            int n = (int)Math.Min(buffer.Length, bytes.Length - offset);
            bytes.AsSpan((int)offset, n).CopyTo(buffer);
            return n;
        }, file);

    /// <summary>Scans a seekable stream (the weights inside a .keras zip) and rewinds it.</summary>
    public static void Check(Stream stream, string? file)
    {
        Check(stream.Length, (offset, buffer) =>
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
        }, file);
        stream.Position = 0;
    }

    private delegate int ReadAt(long offset, Span<byte> buffer);

    private static void Check(long length, ReadAt read, string? file)
    {
        Span<byte> head = stackalloc byte[16];
        if (read(0, head) < 16 || !head[..8].SequenceEqual(HdfMagic)) return;
        // Size of lengths: superblock v0/v1 byte 14, v2/v3 byte 10. Only 8-byte lengths (what h5py writes) are checked.
        int lengthSize = head[8] <= 1 ? head[14] : head[10];
        if (lengthSize != 8) return;

        var buffer = new byte[64 << 10];
        long position = 0;
        while (position < length)
        {
            int n = read(position, buffer);
            if (n <= 0) break;
            var span = buffer.AsSpan(0, n);
            for (int at = span.IndexOf(Signature); at >= 0;)
            {
                CheckCollection(position + at, length, read, file);
                int next = span[(at + 1)..].IndexOf(Signature);
                at = next < 0 ? -1 : at + 1 + next;
            }
            if (position + n >= length) break;
            position += n - (Signature.Length - 1); // overlap so a signature across chunks is seen
        }
    }

    private static void CheckCollection(long start, long fileLength, ReadAt read, string? file)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (read(start, header) < HeaderBytes) return;
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        if (size < HeaderBytes || size > (ulong)(fileLength - start))
            throw Corrupt($"collection at byte {start} declares {size} bytes but the file has {fileLength - start} left", file);
        long end = start + (long)size, pos = start + HeaderBytes;
        Span<byte> obj = stackalloc byte[16];
        while (pos + 16 <= end)
        {
            if (read(pos, obj) < 16) return;
            ushort index = BinaryPrimitives.ReadUInt16LittleEndian(obj);
            if (index == 0) return; // the free-space object ends the list
            ulong objectSize = BinaryPrimitives.ReadUInt64LittleEndian(obj[8..]);
            if (objectSize > (ulong)(end - pos - 16))
                throw Corrupt($"object {index} at byte {pos} declares {objectSize} bytes, more than its collection holds", file);
            pos += 16 + (long)((objectSize + 7) & ~7UL);
        }
    }

    private static ModelFormatException Corrupt(string detail, string? file) =>
        new($"the HDF5 global heap is corrupt: {detail}", file);
}
