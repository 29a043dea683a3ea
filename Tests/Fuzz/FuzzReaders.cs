using FastInfer.Formats;
using FastInfer.Formats.Keras;
using FastInfer.Formats.Onnx;
using FastInfer.Runtime;

namespace FastInfer.Tests.Fuzz;

/// <summary>
/// Each fuzzed reader as one call over bytes, with the limits every fuzz run uses and the exception types each
/// reader documents. Shared by the in-tree mutation fuzz (<see cref="FuzzTargets"/>) and the SharpFuzz harness in
/// tools/fuzz (linked source), so both fuzz exactly the same entry points.
/// </summary>
internal static class FuzzReaders
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

    public static bool IsModelFormat(Exception e) => e is ModelFormatException;
    public static bool IsModelFormatOrInvalidModel(Exception e) => e is ModelFormatException or InvalidModelException;

    public static void LoadOnnx(byte[] bytes) => OnnxReader.Load(bytes, limits: Limits, sourceName: "fuzz.onnx").Dispose();

    public static void LoadOnnxTensor(byte[] bytes) => OnnxTensorFile.Read(bytes, limits: Limits, sourceName: "fuzz.pb").Dispose();

    /// <summary>Loads an ONNX model and plans it for its declared input shapes when they are small: planning folds
    /// constants and sizes the arena from what the file says, which is exactly what a hostile file would attack.</summary>
    public static void LoadAndPlanOnnx(byte[] bytes)
    {
        var graph = OnnxReader.Load(bytes, limits: Limits, sourceName: "fuzz.onnx");
        using var session = InferenceSession.Create(graph, new SessionOptions { IntraOpThreads = 1, ReaderLimits = Limits });
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

    /// <summary>The Keras reader takes a path (HDF5 or zip, chosen by content); one reused temp file per thread keeps the cost to a write.</summary>
    public static void LoadKeras(byte[] bytes, string extension)
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
