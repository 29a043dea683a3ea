using System.Diagnostics;
using System.Reflection;
using FastInfer.Cli.Inputs;
using FastInfer.Cli.Output;
using FastInfer.Formats;
using FastInfer.Runtime;

namespace FastInfer.Cli.Commands;

/// <summary>
/// <c>fastinfer run</c> with no model: ResNet-18 (the image featurizer from the Microsoft.ML.DnnImageFeaturizer.ResNet18
/// package, copied next to the program) embeds the sample photos built into the program, and the pairwise cosine
/// similarities of the 512-d embeddings are printed with the latency per image.
/// </summary>
internal static class DefaultModel
{
    public const string ModelFile = "ResNet18.onnx";
    public const string PreprocessFile = "ResNetPreprocess.onnx";
    private const int Size = 224;

    /// <summary>Where the model files are: models/ next to the program, else the restored NuGet package.</summary>
    public static string Find(string file)
    {
        string local = Path.Combine(AppContext.BaseDirectory, "models", file);
        if (File.Exists(local)) return local;
        string? root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string sub = file == ModelFile ? "ResNet18Onnx" : "ResNetPrepOnnx";
        string pkg = Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", sub, file);
        if (File.Exists(pkg)) return pkg;
        throw new FileNotFoundException($"the default model {file} is not next to the program ({local}) nor in the NuGet cache; build tools/FastInfer.Cli to restore it", local);
    }

    /// <summary>The embedded sample photos, by file name.</summary>
    public static List<(string Name, byte[] Bytes)> Samples()
    {
        var asm = Assembly.GetExecutingAssembly();
        var list = new List<(string, byte[])>();
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("samples/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            list.Add((name["samples/".Length..], ms.ToArray()));
        }
        return list;
    }

    /// <summary>
    /// The preprocessing that ResNetPreprocess.onnx describes: RGB planes (0..255) reordered to BGR (Split → Concat)
    /// minus its MeanImage (Sub), a [1,3,224,224] per-pixel mean in BGR order.
    /// </summary>
    public static float[] LoadMeanImage()
    {
        using var graph = ModelReader.Load(Find(PreprocessFile));
        if (!graph.Initializers.TryGetValue("MeanImage", out var mean) || mean.ElementCount != 3 * Size * Size || mean.ElementType != FastInfer.Ir.DataType.Float)
            throw new CliException($"{PreprocessFile}: expected a float MeanImage of 3×{Size}×{Size}");
        return mean.AsSpan<float>().ToArray();
    }

    public static float[] Preprocess(DecodedImage image, float[] meanBgr)
    {
        float[] rgb = ImageDecoder.ResizeToPlanar(image, Size, Size);
        int plane = Size * Size;
        var bgr = new float[3 * plane];
        for (int c = 0; c < 3; c++)
        {
            int src = (2 - c) * plane, dst = c * plane;
            for (int i = 0; i < plane; i++) bgr[dst + i] = rgb[src + i] - meanBgr[dst + i];
        }
        return bgr;
    }

    public static int Run(CliContext ctx, int threads, bool json)
    {
        string modelPath = Find(ModelFile);
        var mean = LoadMeanImage();
        var samples = Samples();
        if (samples.Count == 0) throw new CliException("no sample photos are embedded in this build");
        using var session = CommonOptions.LoadSession(modelPath, CommonOptions.SessionOptions(threads, new Dictionary<string, int>()));
        var input = session.Inputs[0];
        var result = new DefaultRunResult { Model = modelPath, Threads = threads };
        var embeddings = new List<float[]>();
        using var tensor = Tensor.Allocate(FastInfer.Ir.DataType.Float, 1, 3, Size, Size);
        NamedTensor[]? outputs = null;
        try
        {
            foreach (var (name, bytes) in samples)
            {
                var image = ImageDecoder.Decode(bytes, grayscale: false, name);
                Preprocess(image, mean).CopyTo(tensor.AsSpan<float>());
                NamedTensor[] inputs = [new(input.Name, tensor)];
                if (outputs is null)
                {
                    outputs = session.Run(inputs.AsSpan()); // plans and warms up
                }
                var sw = Stopwatch.StartNew();
                session.Run(inputs, outputs);
                double ms = sw.Elapsed.TotalMilliseconds;
                var embedding = outputs[0].Tensor.ToArray<float>();
                embeddings.Add(embedding);
                result.Images.Add(new ImageEmbedding { Image = name, LatencyMs = ms, Norm = Math.Sqrt(embedding.Sum(v => (double)v * v)) });
            }
        }
        finally { if (outputs is not null) foreach (var o in outputs) o.Tensor.Dispose(); }

        result.EmbeddingSize = embeddings[0].Length;
        result.CosineSimilarity = embeddings.Select(a => embeddings.Select(b => Cosine(a, b)).ToArray()).ToArray();
        if (json) { Json.Write(ctx, result, CliJsonContext.Default.DefaultRunResult); return ExitCodes.Success; }

        ctx.Line($"ResNet-18 ({Path.GetFileName(modelPath)}), {result.EmbeddingSize}-d embeddings of {samples.Count} embedded photos, {threads} thread(s)");
        var sim = Tables.Create(["cosine", .. result.Images.Select(i => i.Image)]);
        for (int i = 0; i < embeddings.Count; i++)
            sim.Row([result.Images[i].Image, .. result.CosineSimilarity[i].Select(v => (object)v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture))]);
        ctx.Console.Write(sim);
        var lat = Tables.Create("image", "latency (ms)", "embedding L2 norm");
        foreach (var i in result.Images) lat.Row(i.Image, i.LatencyMs.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), i.Norm);
        ctx.Console.Write(lat);
        return ExitCodes.Success;
    }

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
