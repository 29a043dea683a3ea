using FastInfer.Formats;
using FastInfer.ModelGen;
using FastInfer.Runtime;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.LargeModels;

/// <summary>
/// The seed CNN's architecture at a CI-sized input (100×100×3: a [156 800 × 128] Dense weight, so batch 1 takes the
/// matrix-vector path) from ONNX-with-external-data and from .fim, with pinned and mapped weights, against ONNX Runtime
/// on the ONNX file (rtol 1e-3, atol 1e-4).
/// </summary>
public class SeedCnnLargeModelTests : IClassFixture<SeedCnnFilesFixture>
{
    private readonly SeedCnnFilesFixture _files;

    public SeedCnnLargeModelTests(SeedCnnFilesFixture files) => _files = files;

    [Theory]
    [InlineData("onnx", WeightPlacement.Pinned, 1)]
    [InlineData("onnx", WeightPlacement.Mapped, 2)]
    [InlineData("fim", WeightPlacement.Pinned, 2)]
    [InlineData("fim", WeightPlacement.Mapped, 1)]
    public void MatchesOnnxRuntime(string format, WeightPlacement placement, int threads)
    {
        const int h = SeedCnnFilesFixture.Height, w = SeedCnnFilesFixture.Width, c = SeedCnnFilesFixture.Channels;
        var input = TensorAssert.RandomFloats(c * h * w, seed: 21);
        var expected = OrtOracle.Run(_files.OnnxPath, new[] { ("input", (Array)input, new[] { 1, c, h, w }) })["probabilities"];

        string path = format == "onnx" ? _files.OnnxPath : _files.FimPath;
        using var session = InferenceSession.Load(path, new SessionOptions { IntraOpThreads = threads, WeightPlacement = placement });
        Assert.Equal(SeedCnnModel.FlatSize(h, w) * SeedCnnModel.Hidden * 4, session.Graph.Initializers["dense1_w"].ByteLength);
        using var x = Tensor.FromArray(input, 1, c, h, w);
        var outputs = session.Run(new NamedTensor("input", x));
        using var y = outputs[0].Tensor;
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-4, $"{format}/{placement}/{threads}");
    }

    [Fact]
    public void MappedPlacementUsesTheFileInPlace()
    {
        using var fromFim = FimReaderLoad(_files.FimPath, WeightPlacement.Mapped);
        using var fromOnnx = ModelReader.Load(_files.OnnxPath, ReaderLimits.Default with { WeightPlacement = WeightPlacement.Mapped });
        // In place means page-aligned addresses inside the mapping (both writers align tensors to 4096 in the file).
        Assert.Equal(0, fromFim.Initializers["dense1_w"].Pointer % 4096);
        Assert.Equal(0, fromOnnx.Initializers["dense1_w"].Pointer % 4096);
    }

    private static Ir.ModelGraph FimReaderLoad(string path, WeightPlacement placement) =>
        ModelReader.Load(path, ReaderLimits.Default with { WeightPlacement = placement });
}
