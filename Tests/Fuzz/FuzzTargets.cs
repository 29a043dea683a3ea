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
    /// <summary>Tight limits so that "loads" stays cheap and every limit is reachable by a mutation.</summary>
    public static readonly ReaderLimits Limits = new()
    {
        MaxFileBytes = 16 << 20,
        MaxTensorBytes = 1 << 20,
        MaxTotalWeightBytes = 4 << 20,
        MaxNodes = 10_000,
        MaxDim = 1 << 24,
        MaxListLength = 1 << 20,
    };

    /// <summary>
    /// PureHDF 2.2 allocates sizes it reads from the file before reading that many bytes (a link name's length, a local
    /// or global heap's size, an attribute's values), trusts every address (cycles overflowed its stack) and once looped
    /// over a billion attribute elements. Formats/Keras/Hdf5Check.cs now walks the file's structure and heaps before
    /// PureHDF opens it, so no size PureHDF reads can exceed the file: the fuzz's largest case allocates a few MiB
    /// (the zip target's inflated entries). The bound keeps that margin, where it was 8 GiB before the check.
    /// </summary>
    private const long PureHdfBound = 64L << 20;

    private static bool IsModelFormat(Exception e) => e is ModelFormatException;
    private static bool IsModelFormatOrInvalidModel(Exception e) => e is ModelFormatException or InvalidModelException;

    public static readonly FuzzTarget[] All =
    [
        // ONNX ModelProto: every structure the reader knows (subgraphs, typed and raw tensors, attribute kinds).
        new("onnx", bytes => OnnxReader.Load(bytes, limits: Limits, sourceName: "fuzz.onnx").Dispose(), FuzzCorpus.Onnx,
            IsModelFormat, Cases: 8000, MaxAllocatedBytes: 16 << 20),
        // ONNX models the runtime can run, loaded and then planned: the planner's checks face hostile graphs too.
        new("onnx-plan", LoadAndPlanOnnx, FuzzCorpus.OnnxRunnable, IsModelFormatOrInvalidModel, Cases: 4000, MaxAllocatedBytes: 64 << 20),
        // A lone TensorProto (.pb), as test-data and initializer dumps are stored.
        new("onnx-tensor", bytes => OnnxTensorFile.Read(bytes, limits: Limits, sourceName: "fuzz.pb").Dispose(),
            FuzzCorpus.OnnxTensors, IsModelFormat, Cases: 8000, MaxAllocatedBytes: 16 << 20),
        // Legacy Keras HDF5 files (PureHDF underneath): the structure, attributes and datasets.
        new("keras-h5", bytes => KerasFromBytes(bytes, ".h5"), FuzzCorpus.KerasH5, IsModelFormat, Cases: 3000, MaxAllocatedBytes: PureHdfBound),
        // Keras 3 .keras zips, raw bytes: the zip directory, entry headers and the compressed streams.
        new("keras-zip", bytes => KerasFromBytes(bytes, ".keras"), FuzzCorpus.KerasZip, IsModelFormat, Cases: 3000, MaxAllocatedBytes: PureHdfBound),
        // Keras 3 .keras zips whose config.json is mutated and re-zipped: reaches the JSON config and the converter.
        new("keras-config", bytes => KerasFromBytes(bytes, ".keras"), FuzzCorpus.KerasConfig, IsModelFormat, Cases: 3000, MaxAllocatedBytes: PureHdfBound,
            Mutate: FuzzCorpus.MutateKerasConfig),
        // PNG/BMP images as the CLI decodes them (StbImageSharp, behind a header check of the dimensions).
        new("image", ImageDecode.Load, FuzzCorpus.Images, ImageDecode.IsDocumented, Cases: 2000, MaxAllocatedBytes: 64 << 20),
    ];

    public static FuzzTarget Get(string name) => Array.Find(All, t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}'");

    private static void LoadAndPlanOnnx(byte[] bytes)
    {
        var graph = OnnxReader.Load(bytes, limits: Limits, sourceName: "fuzz.onnx");
        using var session = InferenceSession.Create(graph, new SessionOptions { IntraOpThreads = 1, ReaderLimits = Limits });
        // Plan for the declared input shapes when they are small: planning folds constants and sizes the arena from
        // what the file says, which is exactly what a hostile file would attack.
        long elements = 0;
        foreach (var input in session.Inputs)
        {
            long n = 1;
            foreach (int d in session.DefaultShape(input)) n = d <= 0 ? 0 : Math.Min(n * d, 1L << 40);
            elements += n;
        }
        if (elements <= 1 << 16) session.DescribePlan();
    }

    [ThreadStatic] private static string? t_tempFile;

    /// <summary>The Keras reader takes a path; one reused temp file per thread keeps the cost to a write.</summary>
    private static void KerasFromBytes(byte[] bytes, string extension)
    {
        t_tempFile ??= Path.Combine(Path.GetTempPath(), $"fastinfer-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}");
        string path = t_tempFile + extension;
        File.WriteAllBytes(path, bytes);
        KerasReader.Load(path, Limits).Dispose();
    }

    /// <summary>Deletes this thread's temp files.</summary>
    public static void CleanUpTempFiles()
    {
        if (t_tempFile is null) return;
        foreach (var ext in new[] { ".h5", ".keras" })
            try { File.Delete(t_tempFile + ext); } catch (IOException) { }
    }
}
