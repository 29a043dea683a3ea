using System.Text;

namespace FastInfer.Formats.Keras;

/// <summary>What one object header's messages say about a dataset, checked once all its messages are read.</summary>
internal struct Hdf5ObjectFacts
{
    public bool HasSpace;
    public ulong ElementCount;
    public uint ElementSize;          // 0: no datatype message
    public bool Filtered;
    public int LayoutClass;           // -1: no layout message (not a dataset); 0 compact, 1 contiguous, 2 chunked
    public ulong LayoutAddress;       // contiguous data address (Undefined: never written)
    public ulong LayoutBytes;         // compact: bytes held; contiguous: bytes declared (Undefined: not stated)
    public ulong ChunkBytes;          // chunked: size of one chunk as allocated by a reader
    public bool ChunkInElements;      // ChunkBytes counts elements (layout version 4), not bytes
    public ulong LayoutAt;            // file offset of the layout message, for errors

    public static Hdf5ObjectFacts None => new() { LayoutClass = -1 };
}

/// <summary>
/// Decodes the object header messages PureHDF decodes when it opens an object, checking that every size, count and
/// nested structure stays inside its message, and hands the addresses they point at (links, symbol tables, chunk
/// indexes, continuation blocks) to <see cref="Hdf5StructureCheck"/>. Field layouts follow the HDF5 file format
/// specification, section IV.A.2; where PureHDF reads a field differently from its declared size (names read up to
/// their NUL, datatypes by content), the check requires the two to agree, so it sees the bytes PureHDF will see.
/// </summary>
internal static class Hdf5Messages
{
    private const int MaxRank = 32;          // HDF5's own limit on dataspace rank
    private const int MaxTypeNesting = 16;   // compound/array/enum/variable-length datatypes inside each other

    public static void Check(Hdf5StructureCheck walk, ref Hdf5ObjectFacts facts, int type, byte flags, ReadOnlySpan<byte> data, ulong at)
    {
        string what = Name(type);
        if ((flags & 0x02) != 0)
            throw Hdf5Check.Unsupported(what, at, "a shared (committed) message");
        var c = new Hdf5Cursor(data, at, what);
        switch (type)
        {
            case 0x00: case 0x09: case 0x0A: case 0x0E: case 0x12: case 0x13: case 0x16: case 0x17:
                break; // nil, bogus, group info, times, B-tree K values, reference count, file space info: fixed small fields
            case 0x01:
                facts.ElementCount = Dataspace(ref c);
                facts.HasSpace = true;
                break;
            case 0x02: LinkInfo(walk, ref c); break;
            case 0x03: facts.ElementSize = Datatype(ref c, 0); break;
            case 0x04: c.Take(c.U32()); break; // old fill value: size, value
            case 0x05: FillValue(ref c); break;
            case 0x06: Link(walk, ref c); break;
            case 0x07: throw Hdf5Check.Unsupported(what, at, "raw data in external files");
            case 0x08: Layout(walk, ref c, ref facts); break;
            case 0x0B: FilterPipeline(ref c); facts.Filtered = true; break;
            case 0x0C: Attribute(walk, ref c); break;
            case 0x0D:
                if (data.IndexOf((byte)0) < 0) throw Hdf5Check.Corrupt(what, at, "the comment has no terminating NUL");
                break;
            case 0x0F: break; // shared message table (superblock extension): PureHDF does not follow it
            case 0x10: break; // continuation: handled by the object walk
            case 0x11: walk.QueueGroup(c.U64(), c.U64(), at); break;
            case 0x14: c.Skip(1 + 8); c.Take(c.U16()); break; // driver info: version, driver id, size, info
            case 0x15: AttributeInfo(walk, ref c); break;
            default: throw Hdf5Check.Corrupt("object header", at, $"message type {type} is not an HDF5 message type");
        }
    }

    public static string Name(int type) => type switch
    {
        0x01 => "dataspace message", 0x02 => "link info message", 0x03 => "datatype message",
        0x04 or 0x05 => "fill value message", 0x06 => "link message", 0x07 => "external file list message",
        0x08 => "data layout message", 0x0B => "filter pipeline message", 0x0C => "attribute message",
        0x0D => "comment message", 0x10 => "continuation message", 0x11 => "symbol table message",
        0x14 => "driver info message", 0x15 => "attribute info message",
        _ => $"object header message (type {type})",
    };

    /// <summary>A dataspace; returns its element count, saturated at <see cref="ulong.MaxValue"/>.</summary>
    private static ulong Dataspace(ref Hdf5Cursor c)
    {
        ulong at = c.FileOffset;
        byte version = c.U8();
        int rank = c.U8();
        byte flags = c.U8();
        int kind;
        if (version == 1) { c.Skip(5); kind = rank > 0 ? 1 : 0; }
        else if (version == 2) kind = c.U8();
        else throw Hdf5Check.Corrupt("dataspace", at, $"version {version} (1 or 2 expected)");
        if (rank > MaxRank) throw Hdf5Check.Corrupt("dataspace", at, $"rank {rank} is over HDF5's limit of {MaxRank}");
        ulong count = 1;
        for (int i = 0; i < rank; i++) count = SaturatingMultiply(count, c.U64());
        if ((flags & 1) != 0) c.Skip(8UL * (ulong)rank); // maximum sizes
        if ((flags & 2) != 0) c.Skip(8UL * (ulong)rank); // permutation indices
        return kind switch
        {
            0 => 1,
            1 => count,
            2 => 0,
            _ => throw Hdf5Check.Corrupt("dataspace", at, $"dataspace type {kind} (scalar, simple or null expected)"),
        };
    }

    /// <summary>A datatype, read by content the way PureHDF reads it; returns its element size in bytes.</summary>
    private static uint Datatype(ref Hdf5Cursor c, int depth)
    {
        ulong at = c.FileOffset;
        if (depth > MaxTypeNesting) throw Hdf5Check.Corrupt("datatype", at, $"datatypes nest more than {MaxTypeNesting} deep");
        byte classAndVersion = c.U8();
        int cls = classAndVersion & 0x0F, version = classAndVersion >> 4;
        uint bits = c.U8() | (uint)c.U8() << 8 | (uint)c.U8() << 16;
        uint size = c.U32();
        if (size == 0) throw Hdf5Check.Corrupt("datatype", at, "its element size is 0");
        switch (cls)
        {
            case 0: c.Skip(4); break;          // fixed point: offset, precision
            case 1: c.Skip(12); break;         // floating point: offset, precision, exponent and mantissa fields, bias
            case 2: c.Skip(2); break;          // time: precision
            case 3: case 7: break;             // string, reference: no properties
            case 4: c.Skip(4); break;          // bitfield: offset, precision
            case 5: c.Skip(bits & 0xFF); break; // opaque: tag
            case 6:                            // compound
                for (uint i = 0, n = bits & 0xFFFF; i < n; i++)
                {
                    SkipName(ref c, pad: version < 3);
                    if (version < 3) c.Skip(4);
                    else c.Skip(size < 1u << 8 ? 1UL : size < 1u << 16 ? 2UL : size < 1u << 24 ? 3UL : 4UL);
                    if (version == 1) c.Skip(1 + 3 + 4 + 4 + 16); // dimensionality, reserved, permutation, reserved, dims
                    Datatype(ref c, depth + 1);
                }
                break;
            case 8:                            // enumeration: base type, names, values
            {
                uint baseSize = Datatype(ref c, depth + 1);
                uint n = bits & 0xFFFF;
                for (uint i = 0; i < n; i++) SkipName(ref c, pad: version < 3);
                c.Skip((ulong)n * baseSize);
                break;
            }
            case 9: Datatype(ref c, depth + 1); break; // variable length: base type
            case 10:                           // array: rank, (reserved), dims, (permutation), base type
            {
                ulong rank = c.U8();
                if (version < 3) c.Skip(3);
                c.Skip(4 * rank);
                if (version < 3) c.Skip(4 * rank);
                Datatype(ref c, depth + 1);
                break;
            }
            default: throw Hdf5Check.Corrupt("datatype", at, $"datatype class {cls} does not exist");
        }
        return size;
    }

    /// <summary>A NUL-terminated name, padded to a multiple of 8 bytes (with its NUL) when <paramref name="pad"/>.</summary>
    private static void SkipName(ref Hdf5Cursor c, bool pad)
    {
        int nul = c.IndexOf(0);
        if (nul < 0) throw Hdf5Check.Corrupt(c.What, c.FileOffset, "a name has no terminating NUL inside its message");
        ulong length = (ulong)nul + 1;
        c.Skip(pad ? Pad8(length) : length);
    }

    private static void Attribute(Hdf5StructureCheck walk, ref Hdf5Cursor c)
    {
        ulong at = c.FileOffset;
        byte version = c.U8();
        if (version is < 1 or > 3) throw Hdf5Check.Corrupt("attribute message", at, $"version {version} (1 to 3 expected)");
        byte flags = c.U8();
        if (version >= 2 && (flags & 0x03) != 0) throw Hdf5Check.Unsupported("attribute message", at, "a shared datatype or dataspace");
        ushort nameSize = c.U16(), typeSize = c.U16(), spaceSize = c.U16();
        if (version == 3) c.Skip(1); // name encoding

        // PureHDF reads the name up to its NUL: the NUL must end the declared name, so both agree on where the datatype starts.
        ulong nameAt = c.FileOffset;
        var nameBytes = c.Take(nameSize);
        if (nameSize == 0 || nameBytes.IndexOf((byte)0) != nameSize - 1)
            throw Hdf5Check.Corrupt("attribute message", nameAt, $"the name does not end with its only NUL at its declared size {nameSize}");
        string name = Encoding.UTF8.GetString(nameBytes[..Math.Min(nameSize - 1, 80)]);
        if (version == 1) c.Skip(Pad8(nameSize) - nameSize);

        int typeStart = c.Position;
        bool variableLength = ReadClass(ref c) == 9;
        uint elementSize = Datatype(ref c, 0);
        if (c.Position - typeStart > typeSize)
            throw Hdf5Check.Corrupt("attribute message", at, $"attribute '{name}': its datatype takes {c.Position - typeStart} bytes, more than the {typeSize} declared");
        if (version == 1) c.Skip(Pad8(typeSize) - typeSize);

        int spaceStart = c.Position;
        ulong count = Dataspace(ref c);
        if (c.Position - spaceStart > spaceSize)
            throw Hdf5Check.Corrupt("attribute message", at, $"attribute '{name}': its dataspace takes {c.Position - spaceStart} bytes, more than the {spaceSize} declared");
        if (version == 1) c.Skip(Pad8(spaceSize) - spaceSize);

        // The values are stored inside the message. PureHDF sizes its read (and later its element loop) by the
        // dataspace, so a count the message cannot hold made it allocate or loop over billions of elements.
        ulong bytes = SaturatingMultiply(count, elementSize);
        if (bytes > (ulong)c.Remaining)
            throw Hdf5Check.Corrupt("attribute message", at,
                $"attribute '{name}' declares {count} elements of {elementSize} bytes ({bytes} bytes) but its message holds {c.Remaining}");

        // Variable-length values (Keras' model_config and other strings) live in global heap collections; each
        // element is a heap ID: length (4), collection address (8), object index (4). PureHDF follows each.
        if (variableLength && elementSize == 16)
        {
            for (ulong i = 0; i < count; i++)
            {
                ulong idAt = c.FileOffset;
                c.Skip(4);
                ulong collection = c.U64();
                c.Skip(4);
                if (collection != 0 && collection != Hdf5Cursor.Undefined) walk.CheckGlobalHeap(collection, idAt);
            }
        }
    }

    /// <summary>The class of the datatype at the cursor, without moving it.</summary>
    private static int ReadClass(ref Hdf5Cursor c)
    {
        int position = c.Position;
        int cls = c.U8() & 0x0F;
        c.MoveTo((ulong)position);
        return cls;
    }

    private static void FillValue(ref Hdf5Cursor c)
    {
        ulong at = c.FileOffset;
        byte version = c.U8();
        if (version is 1 or 2)
        {
            c.Skip(2); // allocation time, fill write time
            if (c.U8() == 1) c.Take(c.U32());
        }
        else if (version == 3)
        {
            if ((c.U8() & 0x20) != 0) c.Take(c.U32());
        }
        else throw Hdf5Check.Corrupt("fill value message", at, $"version {version} (1 to 3 expected)");
    }

    private static void FilterPipeline(ref Hdf5Cursor c)
    {
        ulong at = c.FileOffset;
        byte version = c.U8();
        int count = c.U8();
        if (version is not (1 or 2)) throw Hdf5Check.Corrupt("filter pipeline message", at, $"version {version} (1 or 2 expected)");
        if (count > 32) throw Hdf5Check.Corrupt("filter pipeline message", at, $"{count} filters (HDF5 allows 32)");
        if (version == 1) c.Skip(6);
        for (int i = 0; i < count; i++)
        {
            ushort id = c.U16();
            ushort nameLength = version == 1 || id >= 256 ? c.U16() : (ushort)0;
            c.Skip(2); // flags
            ulong values = c.U16();
            c.Skip(version == 1 ? Pad8(nameLength) : nameLength);
            c.Skip(4 * values);
            if (version == 1 && (values & 1) != 0) c.Skip(4);
        }
    }

    private static void Link(Hdf5StructureCheck walk, ref Hdf5Cursor c)
    {
        ulong at = c.FileOffset;
        byte version = c.U8();
        if (version != 1) throw Hdf5Check.Corrupt("link message", at, $"version {version} (1 expected)");
        byte flags = c.U8();
        int linkType = (flags & 0x08) != 0 ? c.U8() : 0;
        if ((flags & 0x04) != 0) c.Skip(8); // creation order
        if ((flags & 0x10) != 0) c.Skip(1); // name character set
        ulong nameLength = c.UInt(1 << (flags & 3));
        if (nameLength == 0) throw Hdf5Check.Corrupt("link message", at, "the link name is empty");
        // PureHDF allocates the declared name length before reading it (a mutated length once cost 1.5 GB).
        var name = c.Take(nameLength);
        string shown = Encoding.UTF8.GetString(name[..(int)Math.Min(nameLength, 80)]);
        switch (linkType)
        {
            case 0: walk.QueueObject(c.U64(), $"link '{shown}'", at); break;
            // PureHDF resolves a soft link's path each time it is used, with no depth limit: a link naming itself
            // overflowed its stack. Keras never writes soft links.
            case 1: throw Hdf5Check.Unsupported("link message", at, $"a soft link ('{shown}')");
            case 64: throw Hdf5Check.Unsupported("link message", at, $"an external link ('{shown}' points into another file)");
            default: throw Hdf5Check.Unsupported("link message", at, $"link type {linkType} ('{shown}')");
        }
    }

    private static void LinkInfo(Hdf5StructureCheck walk, ref Hdf5Cursor c)
    {
        ulong at = c.FileOffset;
        byte version = c.U8();
        if (version != 0) throw Hdf5Check.Corrupt("link info message", at, $"version {version} (0 expected)");
        byte flags = c.U8();
        if ((flags & 1) != 0) c.Skip(8); // maximum creation index
        ulong heap = c.U64(), nameIndex = c.U64();
        if ((flags & 2) != 0) c.Skip(8); // creation order index
        walk.CheckDenseStorage(heap, nameIndex, "links", at);
    }

    private static void AttributeInfo(Hdf5StructureCheck walk, ref Hdf5Cursor c)
    {
        ulong at = c.FileOffset;
        byte version = c.U8();
        if (version != 0) throw Hdf5Check.Corrupt("attribute info message", at, $"version {version} (0 expected)");
        byte flags = c.U8();
        if ((flags & 1) != 0) c.Skip(2); // maximum creation index
        ulong heap = c.U64(), nameIndex = c.U64();
        if ((flags & 2) != 0) c.Skip(8);
        walk.CheckDenseStorage(heap, nameIndex, "attributes", at);
    }

    private static void Layout(Hdf5StructureCheck walk, ref Hdf5Cursor c, ref Hdf5ObjectFacts facts)
    {
        ulong at = c.FileOffset;
        facts.LayoutAt = at;
        byte version = c.U8();
        if (version is 1 or 2)
        {
            int dims = c.U8();
            int cls = c.U8();
            c.Skip(5);
            facts.LayoutClass = cls;
            if (cls == 0) { c.Skip(4UL * (ulong)dims); facts.LayoutBytes = (ulong)c.Take(c.U32()).Length; return; }
            ulong address = c.U64();
            ulong chunk = 1;
            for (int i = 0; i < dims; i++) chunk = SaturatingMultiply(chunk, c.U32());
            if (cls == 1) { facts.LayoutAddress = address; facts.LayoutBytes = Hdf5Cursor.Undefined; return; }
            if (cls != 2) throw Hdf5Check.Corrupt("data layout message", at, $"layout class {cls} (compact, contiguous or chunked expected)");
            facts.ChunkBytes = chunk; // the last "dimension" of a chunk is the element size
            walk.QueueChunkIndex(address, dims, at);
            return;
        }
        if (version is not (3 or 4)) throw Hdf5Check.Corrupt("data layout message", at, $"version {version} (1 to 4 expected)");
        int layoutClass = c.U8();
        facts.LayoutClass = layoutClass;
        switch (layoutClass)
        {
            case 0: facts.LayoutBytes = (ulong)c.Take(c.U16()).Length; break;
            case 1:
                facts.LayoutAddress = c.U64();
                facts.LayoutBytes = c.U64();
                break;
            case 2 when version == 3:
            {
                int dims = c.U8();
                ulong address = c.U64();
                ulong chunk = 1;
                for (int i = 0; i < dims; i++) chunk = SaturatingMultiply(chunk, c.U32());
                c.Skip(4); // element size (also the last chunk dimension)
                facts.ChunkBytes = chunk;
                walk.QueueChunkIndex(address, dims, at);
                break;
            }
            case 2:
            {
                byte flags = c.U8();
                int dims = c.U8();
                int width = c.U8();
                if (width is < 1 or > 8) throw Hdf5Check.Corrupt("data layout message", at, $"chunk dimensions stored in {width} bytes (1 to 8 expected)");
                ulong chunk = 1;
                for (int i = 0; i < dims; i++) chunk = SaturatingMultiply(chunk, c.UInt(width));
                facts.ChunkBytes = chunk;
                facts.ChunkInElements = true; // version 4 chunk dimensions leave out the element size
                int index = c.U8();
                ulong stored = Hdf5Cursor.Undefined;
                if (index == 1 && (flags & 2) != 0) { stored = c.U64(); c.Skip(4); } // filtered single chunk: size, filter mask
                // Single-chunk and implicit indexes are plain addresses; the array and B-tree v2 chunk indexes are
                // not walked by this check, so they are refused rather than handed to PureHDF unchecked.
                if (index is not (1 or 2))
                    throw Hdf5Check.Unsupported("data layout message", at, $"chunk index type {index} (only single-chunk, implicit and version 1 B-tree indexes are supported)");
                ulong address = c.U64();
                if (address != Hdf5Cursor.Undefined && !walk.Holds(address, stored == Hdf5Cursor.Undefined ? 1 : stored))
                    throw Hdf5Check.Corrupt("data layout message", at, $"its chunk at byte {address} lies outside the file");
                break;
            }
            case 3: throw Hdf5Check.Unsupported("data layout message", at, "a virtual dataset");
            default: throw Hdf5Check.Corrupt("data layout message", at, $"layout class {layoutClass} (compact, contiguous or chunked expected)");
        }
    }

    public static ulong Pad8(ulong n) => (n + 7) & ~7UL;

    public static ulong SaturatingMultiply(ulong a, ulong b) =>
        a != 0 && b > ulong.MaxValue / a ? ulong.MaxValue : a * b;
}
