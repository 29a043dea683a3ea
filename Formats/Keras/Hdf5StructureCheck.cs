using System.Buffers.Binary;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Walks the metadata PureHDF 2.2 walks — superblock, object headers and their continuation blocks, group symbol
/// tables (version 1 B-trees, symbol table nodes, local heaps), links, and the version 1 B-trees that index dataset
/// chunks — before PureHDF touches the file. PureHDF trusts every address, count and size it reads: a continuation
/// block or B-tree node that points back at itself makes it recurse until the stack overflows, a message size that
/// overruns its chunk makes its message loop run on through the file, and sizes are allocated before they are read
/// (a mutated attribute dataspace made it loop over a billion elements). Here every structure is visited at most once
/// (visited-address sets), B-tree levels must fall by one per step, every block must lie inside the file, and every
/// count must fit in the bytes that hold it; a file that breaks any of this is rejected naming the structure and byte.
/// The walk is iterative and reads metadata only, never dataset values.
/// </summary>
internal sealed class Hdf5StructureCheck
{
    private const int MaxObjects = 1 << 20;
    private const int MaxMessages = 1 << 22;
    private const int MaxBTreeLevel = 64;
    private static ReadOnlySpan<byte> Magic => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];

    private readonly Hdf5Bytes _bytes;
    private readonly Stack<ulong> _objects = new();
    private readonly HashSet<ulong> _seenObjects = [];
    private readonly Stack<(ulong Node, ulong Heap, int Level)> _groupNodes = new();
    private readonly Stack<(ulong Node, int Dims, int Level)> _chunkNodes = new();
    private readonly Dictionary<(ulong, ulong), int> _treeNodes = []; // (node, heap or dimensionality) → its level
    private readonly HashSet<(ulong, ulong)> _symbolNodes = [];        // (node, heap)
    private readonly Dictionary<ulong, byte[]> _heaps = [];
    private readonly HashSet<ulong> _globalHeaps = [];
    private long _metadataBytes, _metadataBudget;
    private int _messages;
    private readonly List<(ulong Address, ulong Bytes)> _contiguous = [];

    private Hdf5StructureCheck(Hdf5Bytes bytes)
    {
        _bytes = bytes;
        // Structures may share bytes only so much: a hostile file cannot make the check read more than this.
        _metadataBudget = 8 * bytes.Length + (64L << 20);
    }

    /// <summary>Checks the file; returns where each written contiguous dataset's values lie (checked to be inside the file).</summary>
    public static IReadOnlyList<(ulong Address, ulong Bytes)> Run(Hdf5Bytes bytes)
    {
        var walk = new Hdf5StructureCheck(bytes);
        walk.Superblock();
        while (true)
        {
            if (walk._objects.TryPop(out ulong obj)) walk.ObjectHeader(obj);
            else if (walk._groupNodes.TryPop(out var g)) walk.GroupNode(g.Node, g.Heap, g.Level);
            else if (walk._chunkNodes.TryPop(out var k)) walk.ChunkNode(k.Node, k.Dims, k.Level);
            else break;
        }
        return walk._contiguous;
    }

    public bool Holds(ulong address, ulong count) => _bytes.Holds(address, count);

    private byte[] Block(ulong address, ulong count, string what)
    {
        var block = _bytes.Block(address, count, what);
        _metadataBytes += block.Length;
        if (_metadataBytes > _metadataBudget)
            throw Hdf5Check.Corrupt(what, address, $"the file's structures overlap so much that checking them would read over {_metadataBudget} bytes");
        return block;
    }

    private void Superblock()
    {
        Span<byte> head = stackalloc byte[96];
        int n = _bytes.Read(0, head);
        if (n < 8 || !head[..8].SequenceEqual(Magic))
            throw Hdf5Check.Corrupt("superblock", 0, "the HDF5 signature is not at the start of the file");
        var c = new Hdf5Cursor(head[..n], 0, "superblock");
        c.Skip(8);
        byte version = c.U8();
        int offsetSize, lengthSize;
        if (version is 0 or 1)
        {
            c.Skip(4); // free-space, root entry and shared-header versions, reserved
            offsetSize = c.U8();
            lengthSize = c.U8();
            CheckSizes(offsetSize, lengthSize);
            c.Skip(version == 1 ? 13UL : 9UL); // reserved, group K values, flags, (indexed storage K, reserved)
            ulong baseAddress = c.U64();
            c.Skip(8 + 8 + 8); // free-space info, end of file, driver info block
            CheckBase(baseAddress);
            // Root group symbol table entry: name offset, object header, cache type, reserved, scratch pad.
            ulong entryAt = c.FileOffset;
            c.Skip(8);
            ulong root = c.U64();
            uint cacheType = c.U32();
            c.Skip(4);
            ulong btree = c.U64(), heap = c.U64();
            QueueObject(root, "the root group", entryAt);
            if (cacheType == 1) QueueGroup(btree, heap, entryAt);
        }
        else if (version is 2 or 3)
        {
            offsetSize = c.U8();
            lengthSize = c.U8();
            CheckSizes(offsetSize, lengthSize);
            c.Skip(1); // flags
            ulong baseAddress = c.U64();
            ulong extension = c.U64();
            c.Skip(8); // end of file
            ulong root = c.U64();
            CheckBase(baseAddress);
            QueueObject(root, "the root group", 0);
            if (extension != Hdf5Cursor.Undefined) QueueObject(extension, "the superblock extension", 0);
        }
        else throw Hdf5Check.Corrupt("superblock", 8, $"version {version} (0 to 3 expected)");
    }

    private static void CheckSizes(int offsetSize, int lengthSize)
    {
        // h5py (and so Keras) always writes 8-byte addresses and lengths; the walk reads them as such.
        if (offsetSize != 8 || lengthSize != 8)
            throw Hdf5Check.Unsupported("superblock", 0, $"{offsetSize}-byte addresses and {lengthSize}-byte lengths (8 and 8 expected)");
    }

    private static void CheckBase(ulong baseAddress)
    {
        if (baseAddress != 0) throw Hdf5Check.Unsupported("superblock", 0, $"base address {baseAddress} (a user block; 0 expected)");
    }

    public void QueueObject(ulong address, string from, ulong at)
    {
        if (!_bytes.Holds(address, 16))
            throw Hdf5Check.Corrupt("object address", at, $"{from} points at byte {address}, outside the file ({_bytes.Length} bytes)");
        if (!_seenObjects.Add(address)) return; // hard links may share an object; each is checked once
        if (_seenObjects.Count > MaxObjects) throw Hdf5Check.Corrupt("object address", at, $"more than {MaxObjects} objects");
        _objects.Push(address);
    }

    private void ObjectHeader(ulong address)
    {
        var facts = Hdf5ObjectFacts.None;
        var chunks = new Queue<(ulong At, ulong Length, bool Signed)>();
        var seenChunks = new HashSet<ulong>();
        int version;
        bool creationOrder = false;
        Span<byte> head = stackalloc byte[34];
        int n = _bytes.Read((long)address, head);
        var c = new Hdf5Cursor(head[..n], address, "object header");
        byte first = c.U8();
        if (first == 1)
        {
            // Version 1: version, reserved, message count, reference count, header size, then padding to 16 bytes.
            version = 1;
            c.Skip(1 + 2 + 4);
            uint size = c.U32();
            chunks.Enqueue((address + 16, size, false));
        }
        else
        {
            c.MoveTo(0);
            if (c.U32() != 0x5244484F) // "OHDR"
                throw Hdf5Check.Corrupt("object header", address, "neither a version 1 header nor the 'OHDR' signature is here");
            version = c.U8();
            if (version != 2) throw Hdf5Check.Corrupt("object header", address, $"version {version} (2 expected after 'OHDR')");
            byte flags = c.U8();
            if ((flags & 0x20) != 0) c.Skip(16); // access, modification, change, birth times
            if ((flags & 0x10) != 0) c.Skip(4);  // attribute phase change values
            creationOrder = (flags & 0x04) != 0;
            ulong size = c.UInt(1 << (flags & 3));
            chunks.Enqueue((c.FileOffset, size, false));
        }

        while (chunks.TryDequeue(out var chunk))
        {
            if (!seenChunks.Add(chunk.At))
                throw Hdf5Check.Corrupt("object header continuation", chunk.At, $"the object at byte {address} lists this block twice (a cycle)");
            if (chunk.Signed)
            {
                // A version 2 continuation block: "OCHK", messages, checksum; its length counts all three.
                if (chunk.Length < 8) throw Hdf5Check.Corrupt("object header continuation", chunk.At, $"length {chunk.Length} is shorter than its signature and checksum");
                var block = Block(chunk.At, chunk.Length, "object header continuation");
                if (BinaryPrimitives.ReadUInt32LittleEndian(block) != 0x4B48434F) // "OCHK"
                    throw Hdf5Check.Corrupt("object header continuation", chunk.At, "the 'OCHK' signature is missing");
                Messages(block.AsSpan(4, block.Length - 8), chunk.At + 4, version, creationOrder, ref facts, chunks);
            }
            else
            {
                var block = Block(chunk.At, chunk.Length, "object header");
                Messages(block, chunk.At, version, creationOrder, ref facts, chunks);
            }
        }
        CheckDataset(ref facts, address);
    }

    /// <summary>
    /// The messages of one header chunk, split exactly as PureHDF splits them: it subtracts each message's size from
    /// the chunk's remaining bytes (an unsigned count), so a message that overran the chunk sent it reading on
    /// through the rest of the file. Here every message must fit in what is left of its chunk.
    /// </summary>
    private void Messages(ReadOnlySpan<byte> chunk, ulong origin, int version, bool creationOrder, ref Hdf5ObjectFacts facts,
        Queue<(ulong, ulong, bool)> chunks)
    {
        int prefix = version == 1 ? 8 : creationOrder ? 6 : 4;
        int gap = version == 1 ? 0 : prefix; // version 2 chunks may end in a gap shorter than a message prefix
        int pos = 0;
        while (chunk.Length - pos > gap)
        {
            ulong at = origin + (ulong)pos;
            if (chunk.Length - pos < prefix)
                throw Hdf5Check.Corrupt("object header", at, $"a message header needs {prefix} bytes but its chunk has {chunk.Length - pos} left");
            int type, size;
            byte flags;
            if (version == 1)
            {
                type = BinaryPrimitives.ReadUInt16LittleEndian(chunk[pos..]);
                size = BinaryPrimitives.ReadUInt16LittleEndian(chunk[(pos + 2)..]);
                flags = chunk[pos + 4];
            }
            else
            {
                type = chunk[pos];
                size = BinaryPrimitives.ReadUInt16LittleEndian(chunk[(pos + 1)..]);
                flags = chunk[pos + 3];
            }
            if (size > chunk.Length - pos - prefix)
                throw Hdf5Check.Corrupt(Hdf5Messages.Name(type), at, $"its {size} bytes run past the end of its header chunk ({chunk.Length - pos - prefix} bytes left)");
            if (++_messages > MaxMessages) throw Hdf5Check.Corrupt("object header", at, $"more than {MaxMessages} header messages in the file");
            var data = chunk.Slice(pos + prefix, size);
            ulong dataAt = at + (ulong)prefix;
            if (type == 0x10)
            {
                var c = new Hdf5Cursor(data, dataAt, "continuation message");
                ulong next = c.U64(), length = c.U64();
                chunks.Enqueue((next, length, version == 2));
            }
            else Hdf5Messages.Check(this, ref facts, type, flags, data, dataAt);
            pos += prefix + size;
        }
    }

    /// <summary>
    /// A dataset's declared values must fit where they are stored: PureHDF allocates the full dataspace × element
    /// size before it reads, so a size the file cannot back is refused here.
    /// </summary>
    private void CheckDataset(ref Hdf5ObjectFacts facts, ulong address)
    {
        if (facts.LayoutClass < 0 || !facts.HasSpace || facts.ElementSize == 0) return;
        ulong bytes = Hdf5Messages.SaturatingMultiply(facts.ElementCount, facts.ElementSize);
        ulong fileLength = (ulong)_bytes.Length;
        string where = $"dataset at byte {address}";
        switch (facts.LayoutClass)
        {
            case 0 when bytes > facts.LayoutBytes:
                throw Hdf5Check.Corrupt("data layout message", facts.LayoutAt, $"the {where} declares {bytes} bytes of values but stores {facts.LayoutBytes}");
            case 1 when facts.LayoutAddress == Hdf5Cursor.Undefined:
                // Never written: a reader fills it with the fill value. Refuse one larger than the whole file.
                if (bytes > fileLength)
                    throw Hdf5Check.Corrupt("data layout message", facts.LayoutAt, $"the {where} was never written but declares {bytes} bytes, more than the file");
                break;
            case 1:
            {
                ulong stored = facts.LayoutBytes == Hdf5Cursor.Undefined ? bytes : facts.LayoutBytes;
                if (bytes > stored || !_bytes.Holds(facts.LayoutAddress, stored))
                    throw Hdf5Check.Corrupt("data layout message", facts.LayoutAt,
                        $"the {where} declares {bytes} bytes of values at byte {facts.LayoutAddress} ({stored} stored) but the file has {_bytes.Length} bytes");
                _contiguous.Add((facts.LayoutAddress, bytes));
                break;
            }
            case 2:
            {
                ulong chunk = facts.ChunkInElements ? Hdf5Messages.SaturatingMultiply(facts.ChunkBytes, facts.ElementSize) : facts.ChunkBytes;
                // h5py sizes chunks at most 1 MiB; compressed chunks may expand past the file, but not without bound.
                ulong cap = Math.Max(fileLength, 64UL << 20);
                if (chunk > cap)
                    throw Hdf5Check.Corrupt("data layout message", facts.LayoutAt, $"the {where} has chunks of {chunk} bytes, more than {cap}");
                break;
            }
        }
    }

    /// <summary>A global heap collection an attribute's variable-length value points at (each checked once).</summary>
    public void CheckGlobalHeap(ulong address, ulong at)
    {
        if (_globalHeaps.Add(address)) Hdf5HeapCheck.CheckReferenced(address, _bytes, at);
    }

    public void QueueGroup(ulong btree, ulong heap, ulong at)
    {
        LocalHeap(heap, at);
        if (btree == Hdf5Cursor.Undefined) throw Hdf5Check.Corrupt("symbol table message", at, "the group's B-tree address is undefined");
        _groupNodes.Push((btree, heap, -1));
    }

    public void QueueChunkIndex(ulong btree, int dims, ulong at)
    {
        if (btree == Hdf5Cursor.Undefined) return; // no chunk written yet
        if (dims is < 1 or > 33) throw Hdf5Check.Corrupt("data layout message", at, $"chunk dimensionality {dims} (1 to 33 expected)");
        _chunkNodes.Push((btree, dims, -1));
    }

    /// <summary>
    /// Links and attributes kept in a fractal heap indexed by a version 2 B-tree ("dense" storage, written only with
    /// newer HDF5 format settings, never by Keras or h5py's defaults). The check does not walk these structures, so
    /// it refuses them rather than hand PureHDF heaps and trees nothing has bounded.
    /// </summary>
    public void CheckDenseStorage(ulong heap, ulong nameIndex, string kind, ulong at)
    {
        if (heap == Hdf5Cursor.Undefined && nameIndex == Hdf5Cursor.Undefined) return;
        throw Hdf5Check.Unsupported(kind == "links" ? "link info message" : "attribute info message", at,
            $"dense {kind} storage (a fractal heap at byte {heap})");
    }

    /// <summary>A local heap (a group's names); its data segment must lie inside the file. Returns the segment.</summary>
    private byte[] LocalHeap(ulong address, ulong at)
    {
        if (_heaps.TryGetValue(address, out var data)) return data;
        if (!_bytes.Holds(address, 32))
            throw Hdf5Check.Corrupt("local heap", address, $"its header (referred to at byte {at}) lies outside the file");
        var head = Block(address, 32, "local heap");
        var c = new Hdf5Cursor(head, address, "local heap");
        if (c.U32() != 0x50414548) throw Hdf5Check.Corrupt("local heap", address, $"the 'HEAP' signature is missing (referred to at byte {at})");
        byte version = c.U8();
        if (version != 0) throw Hdf5Check.Corrupt("local heap", address, $"version {version} (0 expected)");
        c.Skip(3);
        ulong size = c.U64();
        c.Skip(8); // free list head: PureHDF does not walk the free list
        ulong segment = c.U64();
        // PureHDF allocates the declared segment size, then reads it.
        if (!_bytes.Holds(segment, size))
            throw Hdf5Check.Corrupt("local heap", address, $"its {size}-byte data segment at byte {segment} runs past the end of the file ({_bytes.Length} bytes)");
        data = size == 0 ? [] : Block(segment, size, "local heap data segment");
        _heaps[address] = data;
        return data;
    }

    private static void HeapName(byte[] heap, ulong offset, string what, ulong at)
    {
        if (offset >= (ulong)heap.Length || Array.IndexOf(heap, (byte)0, (int)offset) < 0)
            throw Hdf5Check.Corrupt(what, at, $"a name at offset {offset} of its {heap.Length}-byte local heap is outside it or has no terminating NUL");
    }

    private static string HeapString(byte[] heap, ulong offset)
    {
        int start = (int)offset, end = Array.IndexOf(heap, (byte)0, start);
        return System.Text.Encoding.UTF8.GetString(heap, start, Math.Min(end - start, 80));
    }

    /// <summary>
    /// Reads a version 1 B-tree node header and checks its type and level: the level must be one less than the parent's,
    /// so no node can lead back to an ancestor (PureHDF follows a child by its own level, so a node listing itself
    /// recursed until the stack overflowed). Each (node, context) pair is read once; reached again, its recorded level
    /// must still be the one expected. Returns false when the node was checked already.
    /// </summary>
    private bool NodeHeader(ulong node, ulong context, int expectedLevel, int nodeType, string what,
        out int level, out int entries)
    {
        level = entries = 0;
        if (_treeNodes.TryGetValue((node, context), out int seen))
        {
            if (expectedLevel >= 0 && seen != expectedLevel)
                throw Hdf5Check.Corrupt(what, node, $"level {seen} where its parent needs {expectedLevel} (a cycle or a corrupt tree)");
            return false;
        }
        var head = Block(node, 8, what);
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != 0x45455254) // "TREE"
            throw Hdf5Check.Corrupt(what, node, "the 'TREE' signature is missing");
        if (head[4] != nodeType) throw Hdf5Check.Corrupt(what, node, $"node type {head[4]} ({nodeType} expected)");
        level = head[5];
        entries = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6));
        if (expectedLevel >= 0 && level != expectedLevel)
            throw Hdf5Check.Corrupt(what, node, $"level {level} where its parent needs {expectedLevel} (a cycle or a corrupt tree)");
        if (level > MaxBTreeLevel) throw Hdf5Check.Corrupt(what, node, $"level {level} is over {MaxBTreeLevel}");
        _treeNodes[(node, context)] = level;
        return true;
    }

    private void GroupNode(ulong node, ulong heapAddress, int expectedLevel)
    {
        const string what = "group B-tree node";
        if (!NodeHeader(node, heapAddress, expectedLevel, 0, what, out int level, out int entries)) return;
        var heap = _heaps[heapAddress];
        // Header (24 bytes), then key, child, key, ..., child, key; a group key is a name offset into the local heap.
        ulong size = 24 + (ulong)entries * 16 + 8;
        var block = Block(node, size, what);
        var c = new Hdf5Cursor(block, node, what);
        c.Skip(24);
        for (int i = 0; i <= entries; i++)
        {
            ulong keyAt = c.FileOffset;
            HeapName(heap, c.U64(), what, keyAt);
            if (i == entries) break;
            ulong childAt = c.FileOffset;
            ulong child = c.U64();
            if (level > 0) _groupNodes.Push((child, heapAddress, level - 1));
            else SymbolTableNode(child, heapAddress, heap, childAt);
        }
    }

    private void SymbolTableNode(ulong node, ulong heapAddress, byte[] heap, ulong at)
    {
        const string what = "symbol table node";
        if (!_bytes.Holds(node, 8)) throw Hdf5Check.Corrupt(what, at, $"the group B-tree points at byte {node}, outside the file");
        if (!_symbolNodes.Add((node, heapAddress))) return;
        var head = Block(node, 8, what);
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != 0x444F4E53) // "SNOD"
            throw Hdf5Check.Corrupt(what, node, "the 'SNOD' signature is missing");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6));
        var block = Block(node + 8, (ulong)count * 40, what);
        var c = new Hdf5Cursor(block, node + 8, what);
        for (int i = 0; i < count; i++)
        {
            ulong entryAt = c.FileOffset;
            ulong name = c.U64(), header = c.U64();
            uint cacheType = c.U32();
            c.Skip(4);
            ulong scratchA = c.U64(), scratchB = c.U64();
            HeapName(heap, name, what, entryAt);
            switch (cacheType)
            {
                case 0: QueueObject(header, "a group entry", entryAt); break;
                case 1:
                    QueueObject(header, "a group entry", entryAt);
                    QueueGroup(scratchA, scratchB, entryAt); // the cached B-tree and heap of a child group
                    break;
                case 2: // a soft link: PureHDF resolves it with no depth limit (one naming itself overflowed its stack)
                    throw Hdf5Check.Unsupported(what, entryAt, $"a soft link ('{HeapString(heap, name)}')");
                default: throw Hdf5Check.Corrupt(what, entryAt, $"cache type {cacheType} (0 to 2 expected)");
            }
        }
    }

    private void ChunkNode(ulong node, int dims, int expectedLevel)
    {
        const string what = "chunk B-tree node";
        if (!NodeHeader(node, (ulong)dims, expectedLevel, 1, what, out int level, out int entries)) return;
        // A chunk key: chunk size (4), filter mask (4), one 8-byte offset per dimension (the last for the element).
        ulong keySize = 8 + 8 * (ulong)dims;
        ulong size = 24 + (ulong)entries * (keySize + 8) + keySize;
        var block = Block(node, size, what);
        var c = new Hdf5Cursor(block, node, what);
        c.Skip(24);
        for (int i = 0; i < entries; i++)
        {
            uint chunkBytes = c.U32();
            c.Skip(keySize - 4);
            ulong childAt = c.FileOffset;
            ulong child = c.U64();
            if (level > 0) _chunkNodes.Push((child, dims, level - 1));
            else if (!_bytes.Holds(child, chunkBytes))
                throw Hdf5Check.Corrupt(what, childAt, $"a {chunkBytes}-byte chunk at byte {child} runs past the end of the file ({_bytes.Length} bytes)");
        }
    }
}
