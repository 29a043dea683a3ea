using System.Text;
using FastInfer.Formats.Keras;
using FastInfer.Ir;
using Xunit;

namespace FastInfer.Tests.Formats.Keras;

/// <summary>Finds <c>shared/keras-models</c>: FASTINFER_SHARED, or walking up from the test binaries.</summary>
public static class KerasShared
{
    private static readonly Lazy<string?> _root = new(Locate);
    public static string? Root => _root.Value;

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException("shared/keras-models not found"), .. parts]);

    private static string? Locate()
    {
        string? env = Environment.GetEnvironmentVariable("FASTINFER_SHARED");
        if (!string.IsNullOrEmpty(env))
        {
            foreach (var c in new[] { System.IO.Path.Combine(env, "keras-models"), env })
                if (Directory.Exists(c) && File.Exists(System.IO.Path.Combine(c, "README.md")) && Directory.Exists(System.IO.Path.Combine(c, "keras3_mnist_cnn"))) return c;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string c = System.IO.Path.Combine(dir.FullName, "shared", "keras-models");
            if (Directory.Exists(c)) return c;
        }
        return null;
    }
}

/// <summary>A fact skipped, with a clear message, when the shared Keras models are absent.</summary>
public sealed class KerasSharedFactAttribute : FactAttribute
{
    public KerasSharedFactAttribute()
    {
        if (KerasShared.Root is null)
            Skip = "shared/keras-models was not found above the test binaries; set FASTINFER_SHARED to the shared folder to run this test";
    }
}

/// <summary>Minimal NumPy .npy reader (v1-3, little-endian float32/float64, C order).</summary>
public static class Npy
{
    public static Tensor Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY") throw new InvalidDataException("not .npy");
        int major = bytes[6];
        int headerLen = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        string header = Encoding.Latin1.GetString(bytes, start, headerLen);
        string descr = Between(header, "'descr':", ",").Trim().Trim('\'');
        if (header.Contains("'fortran_order': True")) throw new NotSupportedException("fortran order");
        string shapeText = Between(header, "'shape': (", ")");
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int offset = start + headerLen;
        var data = new float[count];
        for (long i = 0; i < count; i++)
            data[i] = descr switch
            {
                "<f4" => BitConverter.ToSingle(bytes, offset + (int)i * 4),
                "<f8" => (float)BitConverter.ToDouble(bytes, offset + (int)i * 8),
                _ => throw new NotSupportedException(descr),
            };
        return new Tensor(shape, data);
    }

    private static string Between(string s, string a, string b)
    {
        int i = s.IndexOf(a, StringComparison.Ordinal) + a.Length;
        return s[i..s.IndexOf(b, i, StringComparison.Ordinal)];
    }
}

public static class KerasAssert
{
    public static void Close(Tensor expected, Tensor actual, double rtol = 1e-3, double atol = 1e-4, string what = "")
    {
        Assert.Equal(expected.Shape, actual.Shape);
        for (int i = 0; i < expected.Data.Length; i++)
        {
            double e = expected.Data[i], a = actual.Data[i];
            Assert.True(Math.Abs(e - a) <= atol + rtol * Math.Abs(e),
                $"{what} element {i}: expected {e}, got {a} (|diff| {Math.Abs(e - a)}, rtol {rtol}, atol {atol})");
        }
    }

    public static string[] Ops(ModelGraph g) => g.Nodes.Select(n => n.OpType).ToArray();

    public static long[] Dims(ModelGraph g, string initializerSuffix) =>
        g.Initializers.Single(kv => kv.Key.EndsWith(initializerSuffix, StringComparison.Ordinal)).Value.Dims;

    public static string Shape(ValueInfo v) => Dimension.Format(v.Shape);

    /// <summary>Runs the graph in the test interpreter on one input.</summary>
    public static Tensor RunSingle(ModelGraph g, Tensor input) =>
        ReferenceInterpreter.Run(g, new() { [g.Inputs[0].Name] = input })[g.Outputs[0].Name];

    public static Tensor Random(Random rng, params long[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Data.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }
}
