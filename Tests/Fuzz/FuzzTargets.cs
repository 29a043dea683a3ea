using FastInfer.Formats;
using FastInfer.Formats.Keras;
using FastInfer.Formats.Onnx;
using FastInfer.Runtime;

namespace FastInfer.Tests.Fuzz;

/// <summary>
/// The table of fuzzed readers. Adding a reader is one entry: a loader over bytes, a corpus of small valid files, the
/// exception types it documents, and a case count. For .npy: a loader calling the .npy reader on the bytes and a corpus
/// of a few small arrays written by a test (float32/int64, 0-3 dimensions, Fortran order, v1 and v2 headers); for .fim: a
/// loader calling the .fim reader (through a temp file if it only takes paths) and a corpus written by the .fim writer
/// from <see cref="FuzzCorpus.Onnx"/>'s models.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>
    /// PureHDF 2.2 allocates sizes it reads from the file before reading that many bytes (a link name's length, a local
    /// or global heap's size, an attribute's values), trusts every address (cycles overflowed its stack) and once looped
    /// over a billion attribute elements. Formats/Keras/Hdf5Check.cs now walks the file's structure and heaps before
    /// PureHDF opens it, so no size PureHDF reads can exceed the file: the fuzz's largest case allocates a few MiB
    /// (the zip target's inflated entries). The bound keeps that margin, where it was 8 GiB before the check.
    /// </summary>
    private const long PureHdfBound = 64L << 20;

    public static readonly FuzzTarget[] All =
    [
        // ONNX ModelProto: every structure the reader knows (subgraphs, typed and raw tensors, attribute kinds).
        new("onnx", FuzzReaders.LoadOnnx, FuzzCorpus.Onnx,
            FuzzReaders.IsModelFormat, Cases: 8000, MaxAllocatedBytes: 16 << 20),
        // ONNX models the runtime can run, loaded and then planned: the planner's checks face hostile graphs too.
        new("onnx-plan", FuzzReaders.LoadAndPlanOnnx, FuzzCorpus.OnnxRunnable, FuzzReaders.IsModelFormatOrInvalidModel, Cases: 4000, MaxAllocatedBytes: 64 << 20),
        // A lone TensorProto (.pb), as test-data and initializer dumps are stored.
        new("onnx-tensor", FuzzReaders.LoadOnnxTensor,
            FuzzCorpus.OnnxTensors, FuzzReaders.IsModelFormat, Cases: 8000, MaxAllocatedBytes: 16 << 20),
        // Legacy Keras HDF5 files (PureHDF underneath): the structure, attributes and datasets.
        new("keras-h5", bytes => FuzzReaders.LoadKeras(bytes, ".h5"), FuzzCorpus.KerasH5, FuzzReaders.IsModelFormat, Cases: 3000, MaxAllocatedBytes: PureHdfBound),
        // Keras 3 .keras zips, raw bytes: the zip directory, entry headers and the compressed streams.
        new("keras-zip", bytes => FuzzReaders.LoadKeras(bytes, ".keras"), FuzzCorpus.KerasZip, FuzzReaders.IsModelFormat, Cases: 3000, MaxAllocatedBytes: PureHdfBound),
        // Keras 3 .keras zips whose config.json is mutated and re-zipped: reaches the JSON config and the converter.
        new("keras-config", bytes => FuzzReaders.LoadKeras(bytes, ".keras"), FuzzCorpus.KerasConfig, FuzzReaders.IsModelFormat, Cases: 3000, MaxAllocatedBytes: PureHdfBound,
            Mutate: FuzzCorpus.MutateKerasConfig),
        // PNG/BMP images as the CLI decodes them (StbImageSharp, behind a header check of the dimensions).
        new("image", ImageDecode.Load, FuzzCorpus.Images, ImageDecode.IsDocumented, Cases: 2000, MaxAllocatedBytes: 64 << 20),
    ];

    public static FuzzTarget Get(string name) => Array.Find(All, t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}'");
}
