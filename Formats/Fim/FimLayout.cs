using System.Buffers.Binary;
using System.IO.Hashing;

namespace FastInfer.Formats.Fim;

/// <summary>
/// The fixed parts of a <c>.fim</c> file. Layout (all integers little-endian):
/// <code>
/// [0, 64)        header: magic "FIMODEL\0", u16 major, u16 minor, u32 flags, u64 file length,
///                u64 graph offset, u64 graph length, u64 XxHash3 of the graph section, u64 reserved,
///                u64 XxHash3 of header bytes [0, 56)
/// [4096, ...)    tensor data, each tensor at a multiple of 4096 bytes (mappable and usable in place)
/// [graph, end)   graph section: tensor directory (name, type, dims, offset, length, XxHash3 per tensor) and the
///                graph (nodes, attributes, value infos, inputs/outputs, opsets, metadata), then (1.1 on) the
///                pre-packed operands: layout fingerprint, key and directory index of each blob
/// </code>
/// The graph section comes last so the writer can stream every tensor once, hashing it on the way, and then write the
/// directory holding those hashes. A reader checks the header hash, then the graph hash, then (optionally) each
/// tensor's hash.
/// </summary>
internal static class FimLayout
{
    public static ReadOnlySpan<byte> Magic => "FIMODEL\0"u8;
    public const ushort Major = 1;
    /// <summary>1.1 added the pre-packed operands after the graph (1.0 files still read).</summary>
    public const ushort Minor = 1;
    public const int HeaderSize = 64;
    public const int DataAlignment = 4096;
    /// <summary>Bytes covered by the header hash (everything before it).</summary>
    public const int HashedHeaderBytes = 56;

    public static long AlignUp(long value) => (value + DataAlignment - 1) / DataAlignment * DataAlignment;

    public static ulong Hash(ReadOnlySpan<byte> bytes) => XxHash3.HashToUInt64(bytes);
}

/// <summary>The decoded 64-byte header.</summary>
internal readonly record struct FimHeader(ushort Major, ushort Minor, uint Flags, long FileLength, long GraphOffset, long GraphLength, ulong GraphHash)
{
    public void Write(Span<byte> b)
    {
        b[..FimLayout.HeaderSize].Clear();
        FimLayout.Magic.CopyTo(b);
        BinaryPrimitives.WriteUInt16LittleEndian(b[8..], Major);
        BinaryPrimitives.WriteUInt16LittleEndian(b[10..], Minor);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], Flags);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], FileLength);
        BinaryPrimitives.WriteInt64LittleEndian(b[24..], GraphOffset);
        BinaryPrimitives.WriteInt64LittleEndian(b[32..], GraphLength);
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], GraphHash);
        BinaryPrimitives.WriteUInt64LittleEndian(b[56..], FimLayout.Hash(b[..FimLayout.HashedHeaderBytes]));
    }

    /// <summary>Reads and checks the header against the real file length; every field is treated as hostile.</summary>
    public static FimHeader Read(ReadOnlySpan<byte> b, long actualLength, string? file)
    {
        if (b.Length < FimLayout.HeaderSize)
            throw new ModelFormatException($"the file is {actualLength} bytes, shorter than the {FimLayout.HeaderSize}-byte .fim header", file, "header");
        if (!b.StartsWith(FimLayout.Magic)) throw new ModelFormatException("not a .fim file (magic is not \"FIMODEL\\0\")", file, "header.magic");
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(b[56..]);
        if (stored != FimLayout.Hash(b[..FimLayout.HashedHeaderBytes]))
            throw new ModelFormatException("header checksum mismatch: the file is corrupt", file, "header.checksum");
        var h = new FimHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(b[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(b[10..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[12..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[40..]));
        if (h.Major != FimLayout.Major)
            throw new ModelFormatException($"format version {h.Major}.{h.Minor} is not supported (this reader understands {FimLayout.Major}.x)", file, "header.version");
        if (h.Flags != 0) throw new ModelFormatException($"unknown header flags 0x{h.Flags:x}", file, "header.flags");
        if (h.FileLength != actualLength)
            throw new ModelFormatException($"the header says the file has {h.FileLength} bytes but it has {actualLength} (truncated or extended)", file, "header.file_length");
        if (h.GraphOffset < FimLayout.HeaderSize || h.GraphOffset > actualLength)
            throw new ModelFormatException($"graph offset {h.GraphOffset} lies outside the file ({actualLength} bytes)", file, "header.graph_offset");
        if (h.GraphLength < 0 || h.GraphLength > actualLength - h.GraphOffset)
            throw new ModelFormatException($"graph section [{h.GraphOffset}, +{h.GraphLength}) runs past the end of the file ({actualLength} bytes)", file, "header.graph_length");
        return h;
    }
}
