using FastInfer.Kernels.Blas;
using FastInfer.Kernels.Platform;
using FastInfer.Runtime;
using FastInfer.Tests.Formats.OnnxTests;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Kernels;

/// <summary>
/// SessionOptions kernel choices (Winograd on/off, ISA tier, GEMM provider) end to end against ONNX Runtime,
/// on the seed CNN (3×3 stride-1 convolutions, MatMul+Add) and ResNet-18; fp32 rtol 1e-3, atol 1e-5 for the
/// seed CNN (as its own test) and 1e-3 / 1e-4 for ResNet-18.
/// </summary>
public class SessionKernelOptionsTests
{
    public static IEnumerable<object[]> Variants()
    {
        foreach (bool winograd in new[] { false, true })
        foreach (int threads in new[] { 1, 2 })
            yield return [winograd, threads];
    }

    private static void CheckSeedCnn(SessionOptions options, string what)
    {
        const int h = 40, w = 36, c = 16; // 16 input channels: enough for the Winograd path to be chosen
        byte[] model = SeedCnn.Build(h, w, c, seed: 5, filters: 32);
        var input = TensorAssert.RandomFloats(c * h * w, seed: 9);
        var expected = OrtOracle.Run(model, new[] { ("input", (Array)input, new[] { 1, c, h, w }) })["probabilities"];
        using var session = InferenceSession.Create(FastInfer.Formats.Onnx.OnnxReader.Load(model), options);
        using var x = Tensor.FromArray(input, 1, c, h, w);
        var outputs = session.Run(new NamedTensor("input", x));
        using var y = outputs[0].Tensor;
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-5, what);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void SeedCnnMatchesOnnxRuntimeWithAndWithoutWinograd(bool winograd, int threads) =>
        CheckSeedCnn(new SessionOptions { Winograd = winograd, IntraOpThreads = threads }, $"winograd={winograd} t{threads}");

    [Fact]
    public void SessionIsaOverrideRunsEveryTier()
    {
        foreach (var isa in KernelIsa.Supported())
            CheckSeedCnn(new SessionOptions { Isa = isa, IntraOpThreads = 1 }, $"Isa={isa}");
    }

    [Fact]
    public void CblasProviderMatchesOnnxRuntimeWhenALibraryLoads()
    {
        if (!CblasProvider.TryLoad(out var probe, out _)) return; // nothing to compare where no CBLAS is installed
        probe!.Dispose();
        CheckSeedCnn(new SessionOptions { GemmProvider = GemmProvider.Cblas, IntraOpThreads = 1 }, "GemmProvider=Cblas");
    }

    [ResNet18Fact]
    public void ResNet18WithoutWinogradMatchesOnnxRuntime()
    {
        string path = TestModels.ResNet18!;
        var input = TestModels.ImageLike(3, 224, 224, 4).Select(v => v * 60f).ToArray();
        var expected = OrtOracle.Run(path, new[] { ("Input247", (Array)input, new[] { 1, 3, 224, 224 }) })["Pooling395_Output_0"];
        using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = 2, Winograd = false });
        using var x = Tensor.FromArray(input, 1, 3, 224, 224);
        var outputs = session.Run(new NamedTensor("Input247", x));
        using var y = outputs[0].Tensor;
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-4, "ResNet-18, Winograd off");
    }
}
