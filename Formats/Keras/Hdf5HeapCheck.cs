using System.Buffers.Binary;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Checks the HDF5 global heap collections (where variable-length strings such as <c>model_config</c> live) before
/// PureHDF reads them. PureHDF 2.2 allocates each heap object's declared size before reading it, so a corrupt or
/// hostile size made it allocate up to 2 GB (found by the fuzz tests). Every collection ("GCOL", version 1) must fit
/// in the file and every object in its collection; a file that breaks this is rejected (through <see cref="Hdf5Check"/>).
/// </summary>
internal static class Hdf5HeapCheck
{
    private static ReadOnlySpan<byte> HdfMagic => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];
    // The full 8 bytes, so that weight values almost never look like a collection. PureHDF ignores the 3 reserved
    // bytes, so a collection with them set escapes this scan: those that attributes refer to are checked by
    // Hdf5StructureCheck through CheckReferenced.
    private static ReadOnlySpan<byte> Signature => "GCOL\u0001\0\0\0"u8;
    private const int HeaderBytes = 16;   // signature, version, reserved, collection size (8-byte lengths)

    public static void Check(Hdf5Bytes bytes)
    {
        long length = bytes.Length;
        Span<byte> head = stackalloc byte[16];
        if (bytes.Read(0, head) < 16 || !head[..8].SequenceEqual(HdfMagic)) return;
        // Size of lengths: superblock v0/v1 byte 14, v2/v3 byte 10. Only 8-byte lengths (what h5py writes) are checked.
        int lengthSize = head[8] <= 1 ? head[14] : head[10];
        if (lengthSize != 8) return;

        var buffer = new byte[64 << 10];
        long position = 0;
        while (position < length)
        {
            int n = bytes.Read(position, buffer);
            if (n <= 0) break;
            var span = buffer.AsSpan(0, n);
            for (int at = span.IndexOf(Signature); at >= 0;)
            {
                CheckCollection(position + at, bytes);
                int next = span[(at + 1)..].IndexOf(Signature);
                at = next < 0 ? -1 : at + 1 + next;
            }
            if (position + n >= length) break;
            position += n - (Signature.Length - 1); // overlap so a signature across chunks is seen
        }
    }

    /// <summary>A collection a variable-length value points at: it must be one (signature, version 1) and be sound.</summary>
    public static void CheckReferenced(ulong address, Hdf5Bytes bytes, ulong at)
    {
        Span<byte> head = stackalloc byte[5];
        if (!bytes.Holds(address, HeaderBytes) || bytes.Read((long)address, head) < 5 || !head[..4].SequenceEqual("GCOL"u8) || head[4] != 1)
            throw Hdf5Check.Corrupt("global heap reference", at, $"it points at byte {address}, where there is no version 1 global heap collection");
        CheckCollection((long)address, bytes);
    }

    private static void CheckCollection(long start, Hdf5Bytes bytes)
    {
        long fileLength = bytes.Length;
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (bytes.Read(start, header) < HeaderBytes) return;
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        if (size < HeaderBytes || size > (ulong)(fileLength - start))
            throw Hdf5Check.Corrupt("global heap collection", (ulong)start, $"it declares {size} bytes but the file has {fileLength - start} left");
        long end = start + (long)size, pos = start + HeaderBytes;
        Span<byte> obj = stackalloc byte[16];
        while (pos + 16 <= end)
        {
            if (bytes.Read(pos, obj) < 16) return;
            ushort index = BinaryPrimitives.ReadUInt16LittleEndian(obj);
            if (index == 0) return; // the free-space object ends the list
            ulong objectSize = BinaryPrimitives.ReadUInt64LittleEndian(obj[8..]);
            // Padded to 8 bytes, as PureHDF steps over it: an object ending past its collection made PureHDF's unsigned
            // count of the bytes left wrap around, and it read on past the collection.
            if (objectSize > (ulong)(end - pos - 16) || ((objectSize + 7) & ~7UL) > (ulong)(end - pos - 16))
                throw Hdf5Check.Corrupt("global heap object", (ulong)pos, $"object {index} declares {objectSize} bytes, more than its collection at byte {start} holds");
            pos += 16 + (long)((objectSize + 7) & ~7UL);
        }
    }
}
