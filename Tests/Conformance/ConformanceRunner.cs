using System.Runtime.InteropServices;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;
using FastInfer.Runtime;

namespace FastInfer.Tests.Conformance;

/// <summary>
/// Runs one conformance case the way the ONNX backend runner does: <c>input_K.pb</c> feeds graph input K,
/// <c>output_K.pb</c> is compared with graph output K (shape, element type, then values with
/// |actual − expected| ≤ atol + rtol·|expected|, NaN equal to NaN; integers and bools exactly).
/// </summary>
internal static unsafe class ConformanceRunner
{
    /// <summary>The suite's tolerance (onnx/backend/test/loader: rtol 1e-3, atol 1e-7).</summary>
    public const double Rtol = 1e-3, Atol = 1e-7;

    /// <summary>Dropout in training mode with ratio &gt; 0: the expected values come from numpy's generator.</summary>
    public static bool IsRandomDropout(string name) =>
        name.StartsWith("test_training_dropout", StringComparison.Ordinal) && !name.Contains("zero_ratio");

    /// <summary>Runs the case; throws <see cref="Xunit.Sdk.XunitException"/> describing the first mismatch.</summary>
    public static void Run(string caseDirectory)
    {
        string name = Path.GetFileName(caseDirectory);
        string data = Path.Combine(caseDirectory, "test_data_set_0");
        using var session = InferenceSession.Load(Path.Combine(caseDirectory, "model.onnx"), new SessionOptions { IntraOpThreads = 1 });
        var feeds = new List<NamedTensor>();
        var expected = new List<LoadedTensor>();
        try
        {
            for (int k = 0; k < session.Inputs.Count; k++)
            {
                using var loaded = OnnxTensorFile.Read(Path.Combine(data, $"input_{k}.pb"));
                feeds.Add(new NamedTensor(session.Inputs[k].Name, ToTensor(loaded.Tensor)));
            }
            for (int k = 0; k < session.Outputs.Count; k++) expected.Add(OnnxTensorFile.Read(Path.Combine(data, $"output_{k}.pb")));

            var actual = session.Run(CollectionsMarshal.AsSpan(feeds));
            try
            {
                Check(actual.Length == expected.Count, $"{actual.Length} outputs, expected {expected.Count}");
                for (int k = 0; k < actual.Length; k++)
                {
                    var e = expected[k].Tensor;
                    var a = actual[k].Tensor;
                    string what = $"output {k} ('{session.Outputs[k].Name}')";
                    Check(a.ElementType == e.ElementType, $"{what}: type {a.ElementType.ToName()}, expected {e.ElementType.ToName()}");
                    Check(a.Shape.ToLongArray().AsSpan().SequenceEqual(e.Dims), $"{what}: shape {a.Shape}, expected [{string.Join(",", e.Dims)}]");
                    if (IsRandomDropout(name)) CheckDropoutPattern(feeds, actual, k, what);
                    else CompareValues(e, a, what);
                }
            }
            finally { foreach (var t in actual) t.Tensor.Dispose(); }
        }
        finally
        {
            foreach (var f in feeds) f.Tensor.Dispose();
            foreach (var e in expected) e.Dispose();
        }
    }

    private static Tensor ToTensor(TensorData data)
    {
        var dims = Array.ConvertAll(data.Dims, d => checked((int)d));
        var t = Tensor.Allocate(data.ElementType, dims);
        if (data.ByteLength > 0)
            Buffer.MemoryCopy((void*)data.Pointer, (void*)t.Pointer, t.ByteLength, data.ByteLength);
        return t;
    }

    private static void CompareValues(TensorData expected, Tensor actual, string what)
    {
        long n = actual.ElementCount;
        switch (expected.ElementType)
        {
            case DataType.Float:
            {
                var e = expected.AsSpan<float>();
                var a = new ReadOnlySpan<float>((void*)actual.Pointer, (int)n);
                int bad = 0, worst = -1;
                double worstExcess = double.NegativeInfinity;
                for (int i = 0; i < n; i++)
                {
                    if (Close(a[i], e[i])) continue;
                    bad++;
                    double excess = Math.Abs((double)a[i] - e[i]) - (Atol + Rtol * Math.Abs((double)e[i]));
                    if (worst < 0 || double.IsNaN(excess) || excess > worstExcess) { worst = i; worstExcess = excess; }
                }
                Check(bad == 0, $"{what}: {bad} of {n} values differ beyond rtol {Rtol}, atol {Atol}; worst at {worst}: got {(worst >= 0 ? a[worst] : 0):R}, expected {(worst >= 0 ? e[worst] : 0):R}");
                break;
            }
            default:
            {
                // Integers and bools must be equal byte for byte.
                var e = new ReadOnlySpan<byte>((void*)expected.Pointer, (int)expected.ByteLength);
                var a = new ReadOnlySpan<byte>((void*)actual.Pointer, (int)actual.ByteLength);
                int size = Math.Max(1, expected.ElementType.SizeInBytes());
                for (int i = 0; i < e.Length; i += size)
                    Check(e.Slice(i, size).SequenceEqual(a.Slice(i, size)), $"{what}: element {i / size} differs ({Format(a.Slice(i, size), expected.ElementType)} vs expected {Format(e.Slice(i, size), expected.ElementType)})");
                break;
            }
        }
    }

    internal static bool Close(float actual, float expected)
    {
        if (float.IsNaN(expected)) return float.IsNaN(actual);
        if (float.IsInfinity(expected)) return actual == expected;
        return Math.Abs((double)actual - expected) <= Atol + Rtol * Math.Abs((double)expected);
    }

    private static string Format(ReadOnlySpan<byte> bytes, DataType type) => type switch
    {
        DataType.Int64 => MemoryMarshal.Read<long>(bytes).ToString(),
        DataType.Int32 => MemoryMarshal.Read<int>(bytes).ToString(),
        _ => bytes[0].ToString(),
    };

    /// <summary>
    /// Training-mode Dropout with ratio &gt; 0: numpy's generator decides which elements drop, so check the pattern
    /// instead: each output is 0 or x/(1 − ratio), and where a mask is returned it agrees with the output.
    /// </summary>
    private static void CheckDropoutPattern(List<NamedTensor> feeds, NamedTensor[] actual, int k, string what)
    {
        if (k > 0) return; // the mask is checked together with output 0
        var x = feeds[0].Tensor.AsSpan<float>();
        float ratio = feeds.Count > 1 ? feeds[1].Tensor.AsSpan<float>()[0] : 0.5f;
        float scale = 1f / (1f - ratio);
        var y = actual[0].Tensor.AsSpan<float>();
        var mask = actual.Length > 1 ? new ReadOnlySpan<byte>((void*)actual[1].Tensor.Pointer, (int)actual[1].Tensor.ElementCount) : default;
        int dropped = 0;
        for (int i = 0; i < y.Length; i++)
        {
            bool kept = Close(y[i], x[i] * scale) && (y[i] != 0 || x[i] == 0);
            bool zero = y[i] == 0;
            Check(kept || zero, $"{what}: element {i} is {y[i]}, neither 0 nor x/(1-ratio) = {x[i] * scale}");
            if (!kept) dropped++;
            if (!mask.IsEmpty)
            {
                Check(mask[i] <= 1, $"mask element {i} is {mask[i]}, not a bool");
                Check(mask[i] == 1 ? Close(y[i], x[i] * scale) : zero, $"mask element {i} ({mask[i]}) disagrees with output {y[i]}");
            }
        }
        // With ratio r, about r of the elements drop: accept a wide band, only a broken generator falls outside it.
        double fraction = (double)dropped / Math.Max(1, y.Length);
        Check(Math.Abs(fraction - ratio) < 0.25, $"{what}: {fraction:P0} of elements dropped for ratio {ratio}");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new Xunit.Sdk.XunitException(message);
    }
}
