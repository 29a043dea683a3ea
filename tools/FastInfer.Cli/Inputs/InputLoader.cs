using FastInfer.Formats;
using FastInfer.Formats.Npy;
using FastInfer.Formats.Onnx;
using FastInfer.Ir;

namespace FastInfer.Cli.Inputs;

/// <summary>One model input's value, and where it came from (a file, or "random").</summary>
public sealed record InputValue(ValueInfo Info, NpyArray Array, string Source);

/// <summary>
/// Reads the <c>--input NAME=FILE</c> values for a model: <c>.npy</c> (NumPy), <c>.pb</c> (ONNX TensorProto), or an
/// image (PNG/JPEG/...). Inputs not given are an error, or seeded random values where the command allows it.
/// </summary>
public static class InputLoader
{
    public static List<InputValue> Load(IReadOnlyList<ValueInfo> inputs, IEnumerable<string> specs, ImageOptions image,
        IReadOnlyDictionary<string, int> dims, int? randomSeed)
    {
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            var (name, file) = NameValue.Parse(spec, "--input");
            if (name is null)
            {
                if (inputs.Count != 1)
                    throw new CliException($"--input '{spec}': the model has {inputs.Count} inputs, so name one as NAME=FILE ({string.Join(", ", inputs.Select(i => i.Name))})");
                name = inputs[0].Name;
            }
            if (!inputs.Any(i => i.Name == name))
                throw new CliException($"--input '{spec}': the model has no input named '{name}'; its inputs are {string.Join(", ", inputs.Select(i => $"'{i.Name}' {i.ElementType.ToName()}{Dimension.Format(i.Shape)}"))}");
            if (!given.TryAdd(name, file)) throw new CliException($"--input: '{name}' is given twice");
        }

        var values = new List<InputValue>();
        var rng = new Random(randomSeed ?? 0);
        foreach (var info in inputs)
        {
            if (given.TryGetValue(info.Name, out var file))
            {
                values.Add(new InputValue(info, TensorConvert.CastTo(ReadFile(file, info, image), info.ElementType, info.Name), file));
            }
            else if (randomSeed is not null)
            {
                values.Add(new InputValue(info, Random(info, ConcreteShape(info, dims), rng), "random"));
            }
            else
            {
                throw new CliException($"input '{info.Name}' ({info.ElementType.ToName()}{Dimension.Format(info.Shape)}) is not given; pass --input {info.Name}=FILE.npy");
            }
        }
        return values;
    }

    /// <summary>Reads one input file by its extension: .npy, .pb, or an image.</summary>
    public static NpyArray ReadFile(string file, ValueInfo info, ImageOptions image)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"input file not found: {file}", file);
        string ext = Path.GetExtension(file).ToLowerInvariant();
        if (ext == ".npy") return NpyReader.Read(file);
        if (ext == ".pb")
        {
            using var loaded = OnnxTensorFile.Read(file);
            return TensorConvert.FromData(loaded.Tensor);
        }
        if (ImageDecoder.IsImagePath(file)) return ImageInput.Load(file, info, image);
        throw new CliException($"{file}: unknown input file type '{ext}' (use .npy, .pb, or an image: .png .jpg .bmp ...)");
    }

    /// <summary>The declared shape with symbolic dims bound by <paramref name="dims"/> (default 1).</summary>
    public static long[] ConcreteShape(ValueInfo info, IReadOnlyDictionary<string, int> dims) =>
        info.Shape?.Select(d => d.IsFixed ? d.Value : dims.GetValueOrDefault(d.Symbol ?? "", 1)).ToArray()
        ?? throw new CliException($"input '{info.Name}' has no declared shape; pass it with --input");

    /// <summary>
    /// Seeded random values: floats uniform in [-1, 1), integers 0 or 1, bools 0/1. Integers are often indices: 0 and 1
    /// are valid in any table of two rows or more (a BERT's token types have exactly two; values up to 3 made
    /// <c>bench</c> on MiniLM stop at its token-type Gather).
    /// </summary>
    public static NpyArray Random(ValueInfo info, long[] shape, Random rng)
    {
        long count = 1;
        foreach (long d in shape) count = checked(count * d);
        if (count > 1L << 28) throw new CliException($"input '{info.Name}' with shape [{string.Join(",", shape)}] is too large for random data");
        int n = (int)count;
        switch (info.ElementType)
        {
            case DataType.Float:
            {
                var v = new float[n];
                for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
                return NpyArray.Create<float>(v, shape);
            }
            case DataType.Double:
            {
                var v = new double[n];
                for (int i = 0; i < n; i++) v[i] = rng.NextDouble() * 2 - 1;
                return NpyArray.Create<double>(v, shape);
            }
            case DataType.Int64:
            {
                var v = new long[n];
                for (int i = 0; i < n; i++) v[i] = rng.Next(2);
                return NpyArray.Create<long>(v, shape);
            }
            case DataType.Int32:
            {
                var v = new int[n];
                for (int i = 0; i < n; i++) v[i] = rng.Next(2);
                return NpyArray.Create<int>(v, shape);
            }
            case DataType.Bool:
            case DataType.UInt8:
            {
                var v = new byte[n];
                for (int i = 0; i < n; i++) v[i] = (byte)rng.Next(info.ElementType == DataType.Bool ? 2 : 256);
                return new NpyArray(info.ElementType, shape, v);
            }
            default:
                throw new CliException($"input '{info.Name}' is {info.ElementType.ToName()}; random values of that type are not supported, pass --input");
        }
    }
}
