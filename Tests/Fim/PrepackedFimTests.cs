using FastInfer.Formats;
using FastInfer.Formats.Fim;
using FastInfer.Formats.Onnx;
using FastInfer.Kernels.Gemm;
using FastInfer.Kernels.Platform;
using FastInfer.Runtime;
using FastInfer.Runtime.Prepacking;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Fim;

/// <summary>
/// .fim files written with pre-packed weights (Runtime/Prepacking): a session whose kernels read the stored layout uses
/// every stored operand and packs nothing; one on another ISA tier packs from the plain weights; either way the outputs
/// match ONNX Runtime on the source model, and a damaged blob is caught by its checksum.
/// </summary>
public class PrepackedFimTests
{
    /// <summary>Input channels of the small seed CNNs here: enough that their 3×3 convolution is packed (Winograd on
    /// AVX-512, im2col + GEMM elsewhere) rather than run by the direct few-channel kernel, which packs nothing.</summary>
    private const int Channels = 16;

    [Theory]
    [InlineData(WeightPlacement.Mapped, 2)]
    [InlineData(WeightPlacement.Pinned, 1)]
    public void ResNet18UsesEveryStoredOperandAndMatchesOnnxRuntime(WeightPlacement placement, int threads)
    {
        if (TestModels.ResNet18 is not { } onnx) return; // the model package is not restored here
        using var files = new FimTestFiles();
        string fim = files.PathOf("resnet18.prepacked.fim");
        var summary = PrepackedFimWriter.Write(onnx, fim);
        // Winograd filters (36 per 3×3 stride-1 layer), GEMM panels and transposed filters: hundreds of operands.
        Assert.True(summary.Operands > 100, $"only {summary.Operands} operands stored");
        Assert.Equal(PackedLayout.Fingerprint(KernelIsa.Current), summary.Fingerprint);

        var counts = RunAgainstOnnxRuntime(fim, onnx, new SessionOptions { IntraOpThreads = threads, WeightPlacement = placement },
            "Input247", "Pooling395_Output_0", TestModels.ImageLike(3, 224, 224, seed: 3), [1, 3, 224, 224]);
        Assert.Equal(new PackedOperandCounts(summary.Operands, 0), counts);
    }

    [Fact]
    public void AnotherIsaTierPacksFromThePlainWeights()
    {
        if (TestModels.ResNet18 is not { } onnx || !KernelIsa.IsSupported(IsaLevel.Avx2Fma) || KernelIsa.Current == IsaLevel.Avx2Fma) return;
        using var files = new FimTestFiles();
        string fim = files.PathOf("resnet18.prepacked.fim");
        PrepackedFimWriter.Write(onnx, fim);

        var counts = RunAgainstOnnxRuntime(fim, onnx, new SessionOptions { IntraOpThreads = 2, Isa = IsaLevel.Avx2Fma },
            "Input247", "Pooling395_Output_0", TestModels.ImageLike(3, 224, 224, seed: 4), [1, 3, 224, 224]);
        Assert.Equal(0, counts.FromFile);
        Assert.True(counts.PackedAtLoad > 0);
    }

    [Fact]
    public void ASeedCnnWithSixteenChannelsStoresItsConvolution()
    {
        using var files = new FimTestFiles();
        string source = files.PathOf("seed.onnx"), fim = files.PathOf("seed.prepacked.fim");
        File.WriteAllBytes(source, SeedCnn.Build(20, 20, Channels, seed: 9));
        var summary = PrepackedFimWriter.Write(source, fim);
        // Winograd's 36 transformed filters on AVX-512, the GEMM panels elsewhere (the dense layers at batch 1 are
        // matrix-vector products that read their weights unpacked).
        Assert.True(summary.Operands >= 1, $"{summary.Operands} operands stored");

        var counts = RunAgainstOnnxRuntime(fim, source, new SessionOptions { IntraOpThreads = 1, WeightPlacement = WeightPlacement.Mapped },
            "input", "probabilities", TensorAssert.RandomFloats(Channels * 20 * 20, seed: 12), [1, Channels, 20, 20]);
        Assert.Equal(new PackedOperandCounts(summary.Operands, 0), counts);
    }

    [Fact]
    public void ADamagedBlobFailsItsChecksumNamingTheBlob()
    {
        using var files = new FimTestFiles();
        string fim = WriteSeedPrepacked(files);
        string key;
        long offset;
        using (var graph = FimReader.Load(fim, ReaderLimits.Default with { WeightPlacement = WeightPlacement.Mapped, VerifyTensorChecksums = false }))
        {
            Assert.NotNull(graph.Prepacked);
            key = graph.Prepacked!.Blobs.Keys.First();
            offset = DataOffset(fim, key);
        }
        byte[] bytes = File.ReadAllBytes(fim);
        bytes[offset + 5] ^= 0x40;
        File.WriteAllBytes(fim, bytes);
        var e = Assert.Throws<ModelFormatException>(() => FimReader.Load(fim));
        Assert.Contains("checksum", e.Message);
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void AFileWithoutBlobsStillPacksAtLoad()
    {
        using var files = new FimTestFiles();
        byte[] onnx = SeedCnn.Build(20, 20, Channels, seed: 9);
        string fim = files.PathOf("seed.fim");
        using (var g = OnnxReader.Load(onnx)) FimWriter.Save(g, fim);
        using var session = InferenceSession.Load(fim);
        using var x = Tensor.FromArray(TensorAssert.RandomFloats(Channels * 20 * 20, seed: 1), 1, Channels, 20, 20);
        session.Run(new NamedTensor("input", x))[0].Tensor.Dispose();
        Assert.Null(session.Graph.Prepacked);
        Assert.Equal(0, session.PackedOperands.FromFile);
        Assert.True(session.PackedOperands.PackedAtLoad > 0);
    }

    [Fact]
    public void ABlobIndexOutsideTheDirectoryIsReportedWhereItIs()
    {
        using var files = new FimTestFiles();
        string fim = WriteSeedPrepacked(files);
        byte[] bytes = File.ReadAllBytes(fim);
        // The graph section ends with the last blob's directory index: point it past the directory, keep the checksums valid.
        var (offset, length) = FimTestFiles.GraphSection(bytes);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan((int)(offset + length - 4)), int.MaxValue);
        FimTestFiles.Reseal(bytes);
        File.WriteAllBytes(fim, bytes);
        var e = Assert.Throws<ModelFormatException>(() => FimReader.Load(fim));
        Assert.Contains("prepacked[", e.Message);
        Assert.Contains("outside the directory", e.Message);
    }

    /// <summary>A 16-channel seed CNN written as ONNX, then as a pre-packed .fim; returns the .fim's path.</summary>
    private static string WriteSeedPrepacked(FimTestFiles files)
    {
        string source = files.PathOf("seed.onnx"), fim = files.PathOf("seed.prepacked.fim");
        File.WriteAllBytes(source, SeedCnn.Build(20, 20, Channels, seed: 9));
        PrepackedFimWriter.Write(source, fim);
        return fim;
    }

    /// <summary>
    /// Runs <paramref name="fim"/> once and checks its output against ONNX Runtime on the source model
    /// (rtol 1e-3, atol 1e-4); returns how that session came by its packed operands.
    /// </summary>
    private static PackedOperandCounts RunAgainstOnnxRuntime(string fim, string onnx, SessionOptions options, string input, string output,
        float[] data, int[] shape)
    {
        var expected = OrtOracle.Run(onnx, new[] { (input, (Array)data, shape) })[output];
        using var session = InferenceSession.Load(fim, options);
        using var x = Tensor.FromArray(data, shape);
        var outputs = session.Run(new NamedTensor(input, x));
        using var y = outputs[0].Tensor;
        TensorAssert.Close(expected.Data, y.AsSpan<float>(), 1e-3, 1e-4, output);
        return session.PackedOperands;
    }

    /// <summary>Where a tensor's data starts in a .fim file, from its directory (read with the reader's own codec).</summary>
    private static long DataOffset(string path, string name)
    {
        byte[] file = File.ReadAllBytes(path);
        var (graphOffset, graphLength) = FimTestFiles.GraphSection(file);
        var reader = new FimSectionReader(file.AsSpan((int)graphOffset, (int)graphLength), graphOffset, path, ReaderLimits.Default);
        var entries = FimGraphCodec.ReadDirectory(ref reader, graphOffset);
        return entries.Single(e => e.Name == name).Offset;
    }
}
