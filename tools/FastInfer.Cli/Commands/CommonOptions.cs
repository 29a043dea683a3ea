using System.CommandLine;
using FastInfer.Cli.Inputs;
using FastInfer.Formats;
using FastInfer.Runtime;

namespace FastInfer.Cli.Commands;

/// <summary>Options several commands share, created fresh per command (System.CommandLine options belong to one parent).</summary>
internal static class CommonOptions
{
    public static Argument<string> Model() => new("model") { Description = "Model file: ONNX (.onnx), Keras (.h5, .keras) or FastInfer (.fim)" };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object (snake_case fields) on stdout" };

    public static Option<int?> Threads() => new("--threads", "-t") { Description = "Threads per run (default: all cores)" };

    public static Option<string[]> Inputs() => new("--input", "-i")
    {
        Description = "NAME=FILE: an input from .npy, .pb (TensorProto) or an image (.png/.jpg, see --scale/--grayscale); repeatable",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string[]> Dims() => new("--dim")
    {
        Description = "NAME=N: binds a symbolic dimension (default 1); repeatable",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string> Scale() => new("--scale") { Description = "Image inputs: multiply pixel values (0..255) by this, e.g. 1/255", DefaultValueFactory = _ => "1" };

    public static Option<bool> Grayscale() => new("--grayscale") { Description = "Image inputs: decode as one gray channel" };

    public static ImageOptions ImageOptions(ParseResult p, Option<string> scale, Option<bool> gray) =>
        new(NameValue.ParseScale(p.GetValue(scale) ?? "1"), p.GetValue(gray));

    public static Option<string> Weights() => new("--weights")
    {
        Description = "pinned: weights copied once into aligned memory (default); mapped: a .fim's weights used in place from the file mapping",
        DefaultValueFactory = _ => "pinned",
    };

    /// <summary>Applies <c>--weights</c> to the session options.</summary>
    public static void ApplyWeights(SessionOptions options, string? weights) => options.WeightPlacement = weights?.ToLowerInvariant() switch
    {
        null or "pinned" => FastInfer.Formats.WeightPlacement.Pinned,
        "mapped" => FastInfer.Formats.WeightPlacement.Mapped,
        _ => throw new CliException($"--weights '{weights}': use pinned or mapped"),
    };

    public static int ThreadCount(int? threads)
    {
        if (threads is < 1 or > 1024) throw new CliException($"--threads {threads}: must be between 1 and 1024");
        return threads ?? Environment.ProcessorCount;
    }

    public static SessionOptions SessionOptions(int threads, IReadOnlyDictionary<string, int> dims, DeviceChoice? device = null)
    {
        var options = new SessionOptions { IntraOpThreads = threads };
        foreach (var (k, v) in dims) options.DimensionBindings[k] = v;
        DeviceOptions.Apply(options, device ?? DeviceChoice.Cpu);
        return options;
    }

    public static void RequireFile(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path} is a directory, not a model file");
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
    }

    /// <summary>Reads a model's graph (any format, by content) and prepares a session over it.</summary>
    public static InferenceSession LoadSession(string path, SessionOptions options)
    {
        RequireFile(path);
        return InferenceSession.Create(ModelReader.Load(path, options.ReaderLimits), options);
    }
}
