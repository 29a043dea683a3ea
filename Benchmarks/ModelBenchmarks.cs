using BenchmarkDotNet.Attributes;
using FastInfer.Runtime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace FastInfer.Benchmarks;

/// <summary>
/// End to end at batch 1 against ONNX Runtime 1.31 (ORT_ENABLE_ALL, same intra-op thread count), both over
/// preallocated inputs and outputs: ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18) and the seed
/// CNN at 32×32×3. ORT is the baseline, so BenchmarkDotNet's Ratio column is fastinfer / ort.
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks
{
    [Params("resnet18", "seedcnn32")]
    public string Model { get; set; } = "resnet18";

    [Params(1, 2)]
    public int Threads { get; set; }

    private InferenceSession? _session;
    private Tensor? _x;
    private NamedTensor[] _inputs = [], _outputs = [];
    private Ort.InferenceSession? _ort;
    private Ort.SessionOptions? _ortOptions;
    private Ort.RunOptions? _runOptions;
    private Ort.OrtValue[] _ortIn = [], _ortOut = [];
    private string[] _inNames = [], _outNames = [];

    public static string ResNet18Path => Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } root ? root
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    [GlobalSetup]
    public void Setup()
    {
        byte[] model = Model == "resnet18" ? File.ReadAllBytes(ResNet18Path) : global::FastInfer.Tests.Support.SeedCnn.Build(32, 32, 3);
        int[] shape = Model == "resnet18" ? [1, 3, 224, 224] : [1, 3, 32, 32];
        var rnd = new Random(3);
        var input = new float[shape[1] * shape[2] * shape[3]];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(rnd.NextDouble() - 0.5) * (Model == "resnet18" ? 100f : 2f);
        _session = InferenceSession.Create(global::FastInfer.Formats.Onnx.OnnxReader.Load(model), new SessionOptions { IntraOpThreads = Threads });
        _x = Tensor.FromArray(input, shape);
        _inputs = [new NamedTensor(_session.Inputs[0].Name, _x)];
        _outputs = _session.Run(_inputs);
        _ortOptions = new Ort.SessionOptions { IntraOpNumThreads = Threads, GraphOptimizationLevel = Ort.GraphOptimizationLevel.ORT_ENABLE_ALL };
        _ort = new Ort.InferenceSession(model, _ortOptions);
        _runOptions = new Ort.RunOptions();
        var outShape = _outputs[0].Tensor.Shape.ToArray().Select(d => (long)d).ToArray();
        _ortIn = [Ort.OrtValue.CreateTensorValueFromMemory(input, shape.Select(d => (long)d).ToArray())];
        _ortOut = [Ort.OrtValue.CreateTensorValueFromMemory(new float[_outputs[0].Tensor.AsSpan<float>().Length], outShape)];
        _inNames = [_session.Inputs[0].Name];
        _outNames = [_session.Outputs[0].Name];
    }

    [Benchmark]
    public void FastInfer() => _session!.Run(_inputs, _outputs);

    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _ort!.Run(_runOptions!, _inNames, _ortIn, _outNames, _ortOut);

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var o in _outputs) o.Tensor.Dispose();
        _x?.Dispose(); _session?.Dispose();
        foreach (var v in _ortIn) v.Dispose();
        foreach (var v in _ortOut) v.Dispose();
        _ort?.Dispose(); _ortOptions?.Dispose(); _runOptions?.Dispose();
    }
}
