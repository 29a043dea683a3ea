using System.Buffers.Binary;
using FastInfer.Formats;
using FastInfer.Formats.Keras;
using Xunit;

namespace FastInfer.Tests.Formats.Keras;

/// <summary>
/// Hostile HDF5 structures, each made by patching a few bytes of a real Keras file
/// (dl4j_dense_softmax/simple_sparse_xent_mlp_keras_2_model.h5, written by h5py): unchecked, PureHDF 2.2 overflows its
/// stack on the two cycles and the self-naming soft link, loops over a billion elements on the oversized attribute, and allocates 2 GB for the
/// local heap. The structure check (Formats/Keras/Hdf5StructureCheck.cs) must reject each before PureHDF opens the
/// file, naming the structure and its byte offset. The offsets below are those of that file's root group.
/// </summary>
public class Hdf5HostileStructureTests
{
    private const string Folder = "dl4j_dense_softmax", File = "simple_sparse_xent_mlp_keras_2_model.h5";

    // Root object header (version 1) at 96: its only message, at 112, is a continuation (offset at 120, length at 128).
    private const int RootContinuation = 0x70;
    // The root group's B-tree node at 136 (level byte at 141, its one child pointer at 168) and local heap at 680.
    private const int RootBTree = 0x88;
    private const int RootHeap = 0x2A8;
    // model_weights' 'layer_names' attribute message at 1816; its dataspace's one dimension at 1856.
    private const int LayerNamesDimension = 0x740;

    [KerasSharedFact]
    public void The_unpatched_file_passes_the_check_and_loads()
    {
        using var graph = LoadPatched(_ => { });
        Assert.NotEmpty(graph.Nodes);
    }

    [KerasSharedFact]
    public void A_continuation_block_that_lists_itself_is_rejected()
    {
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b =>
        {
            U64(b, RootContinuation + 8, RootContinuation); // the continuation points back at the chunk holding it
            U64(b, RootContinuation + 16, 24);
        }));
        Assert.Contains("object header continuation at byte 112", e.Message);
        Assert.Contains("cycle", e.Message);
    }

    [KerasSharedFact]
    public void A_group_btree_node_that_lists_itself_is_rejected()
    {
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b =>
        {
            b[RootBTree + 5] = 2;                 // an internal node...
            U64(b, RootBTree + 32, RootBTree);    // ...whose child is itself
        }));
        Assert.Contains("group B-tree node at byte 136", e.Message);
        Assert.Contains("level 2 where its parent needs 1", e.Message);
    }

    [KerasSharedFact]
    public void An_attribute_that_declares_more_elements_than_its_message_holds_is_rejected()
    {
        // The fuzz finding that hung PureHDF (now Tests/Fuzz/corpus/keras-h5/48041f5babd8896f.bin) is this one change.
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b => U64(b, LayerNamesDimension, 0x40000002)));
        Assert.Contains("attribute message at byte 1816", e.Message);
        Assert.Contains("'layer_names' declares 1073741826 elements of 12 bytes", e.Message);
    }

    [KerasSharedFact]
    public void A_local_heap_larger_than_the_file_is_rejected_before_allocation()
    {
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b => U64(b, RootHeap + 8, 0x7FFFFFF0)));
        Assert.Contains("local heap at byte 680", e.Message);
        Assert.Contains("runs past the end of the file", e.Message);
    }

    [KerasSharedFact]
    public void A_header_message_that_overruns_its_chunk_is_rejected()
    {
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(RootContinuation + 2), 256)));
        Assert.Contains("continuation message at byte 112", e.Message);
        Assert.Contains("run past the end of its header chunk", e.Message);
    }

    [KerasSharedFact]
    public void A_link_to_an_address_outside_the_file_is_rejected()
    {
        // The root group's one symbol table node entry ('model_weights') at 6152; its object header address 8 bytes in.
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b => U64(b, 0x1810, 1UL << 40)));
        Assert.Contains("at byte 6152", e.Message);
        Assert.Contains("outside the file", e.Message);
    }

    [KerasSharedFact]
    public void A_soft_link_is_refused()
    {
        // 'model_weights' (the entry at 6152) turned into a soft link to its own name: PureHDF resolved it forever.
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(0x1818), 2); // cache type: symbolic link
            U64(b, 0x1820, 8);                                              // link value: heap offset of "model_weights"
        }));
        Assert.Contains("symbol table node at byte 6152 uses a soft link ('model_weights')", e.Message);
    }

    [KerasSharedFact]
    public void A_global_heap_object_larger_than_its_collection_is_rejected_even_with_reserved_bytes_set()
    {
        // The collection at 2048 holds the root's variable-length strings; object 1 (keras_version) starts at 2064.
        // A set reserved byte hides the collection from the signature scan; the attribute's heap ID still leads to it.
        var e = Assert.Throws<ModelFormatException>(() => LoadPatched(b =>
        {
            b[2048 + 5] = 1;
            U64(b, 2064 + 8, 0x7FFFFFF0);
        }));
        Assert.Contains("global heap object at byte 2064", e.Message);
        Assert.Contains("object 1 declares 2147483632 bytes", e.Message);
    }

    private static void U64(byte[] b, int at, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), value);

    /// <summary>
    /// Loads a patched copy on a thread with a deadline, so a regression that lets PureHDF loop fails the test instead
    /// of stalling the run. (One that lets it overflow its stack still ends the test host: that cannot be caught.)
    /// </summary>
    private static FastInfer.Ir.ModelGraph LoadPatched(Action<byte[]> patch)
    {
        var bytes = System.IO.File.ReadAllBytes(KerasShared.Path(Folder, File));
        patch(bytes);
        string path = SyntheticKerasFiles.TempPath(".h5");
        System.IO.File.WriteAllBytes(path, bytes);
        try
        {
            FastInfer.Ir.ModelGraph? graph = null;
            Exception? error = null;
            var worker = new Thread(() =>
            {
                try { graph = KerasReader.Load(path); }
                catch (Exception e) { error = e; }
            }) { IsBackground = true };
            worker.Start();
            Assert.True(worker.Join(TimeSpan.FromSeconds(30)), "loading the patched file did not finish within 30 s (a hang)");
            if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            return graph!;
        }
        finally { System.IO.File.Delete(path); }
    }
}
