using FastInfer.Formats;
using FastInfer.Formats.Fim;
using FastInfer.Ir;

namespace FastInfer.Runtime.Prepacking;

/// <summary>
/// Writes a <c>.fim</c> that also holds its weights packed for the kernels a session with these options would use
/// (GEMM panels, Winograd-transformed filters, transposed filters): a later session whose kernels read the same layout
/// (<see cref="InferenceSession.PackedLayoutFingerprint"/>) uses them in place — mapped, straight from the file — and
/// skips packing and the Winograd transforms at load. The plain weights stay in the file, so a session on another ISA
/// tier, or with other options, packs from them as usual. The graph written is the source graph, not the optimized one.
/// </summary>
public static unsafe class PrepackedFimWriter
{
    /// <summary>Reads <paramref name="input"/> (any format <see cref="ModelReader"/> reads), plans its default input shapes
    /// with <paramref name="options"/>, and writes <paramref name="output"/> with every operand that planning packed.</summary>
    public static PrepackedSummary Write(string input, string output, SessionOptions? options = null, Action<long, long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new SessionOptions();
        var plain = ModelReader.Load(input, options.ReaderLimits);
        try
        {
            var blobs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
            // A second read for the session, whose graph passes rewrite the graph they are given (folded weights, fused
            // nodes); the file keeps the source graph. With Mapped placement both reads share the file's pages.
            var planned = ModelReader.Load(input, options.ReaderLimits);
            planned.Prepacked = null; // record every operand, even those an input .fim already carries
            string fingerprint;
            using (var session = InferenceSession.CreateRecording(planned, options, (key, data, bytes) =>
            {
                // Copied into the graph being written (padded with zeros to whole lines, as the reader expects).
                long stored = SessionPackedOperands.StoredBytes(bytes);
                var block = plain.Allocate(stored, zero: true);
                Buffer.MemoryCopy((void*)data, (void*)block.Pointer, stored, bytes);
                lock (blobs) blobs[key] = new TensorData(key, DataType.Float, [stored / sizeof(float)], block.Pointer, stored);
            }))
            {
                session.PlanDefaultShapes();
                fingerprint = session.PackedLayoutFingerprint;
            }
            var prepacked = new PrepackedWeights(fingerprint);
            foreach (var (key, t) in blobs) prepacked.Blobs[key] = t;
            plain.Prepacked = prepacked;
            FimWriter.Save(plain, output, new FimWriteOptions { Progress = progress });
            return new PrepackedSummary(fingerprint, prepacked.Blobs.Count, prepacked.ByteLength, plain.WeightBytes, plain.Nodes.Count);
        }
        finally { plain.Dispose(); }
    }
}

/// <summary>What <see cref="PrepackedFimWriter.Write"/> stored: the layout, how many packed operands and their bytes,
/// beside the plain weights' bytes and the graph's node count.</summary>
public readonly record struct PrepackedSummary(string Fingerprint, int Operands, long PackedBytes, long WeightBytes, int Nodes);
