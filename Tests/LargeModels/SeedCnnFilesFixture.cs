using FastInfer.Formats.Fim;
using FastInfer.Formats.Onnx;
using FastInfer.ModelGen;

namespace FastInfer.Tests.LargeModels;

/// <summary>
/// The seed CNN at 100×100×3 written once per test class by the same code as the full-size benchmark model
/// (tools/FastInfer.ModelGen): ONNX with every tensor over 1 KB in external data, and .fim.
/// </summary>
public sealed class SeedCnnFilesFixture : IDisposable
{
    public const int Height = 100, Width = 100, Channels = 3;

    public string Folder { get; } = Directory.CreateTempSubdirectory("fastinfer-large-").FullName;
    public string OnnxPath => Path.Combine(Folder, "seed_cnn.onnx");
    public string FimPath => Path.Combine(Folder, "seed_cnn.fim");

    public SeedCnnFilesFixture()
    {
        using var graph = SeedCnnModel.Build(Height, Width, Channels, seed: 3, scratchFolder: Folder);
        OnnxWriter.Save(graph, OnnxPath, new OnnxWriteOptions { ExternalDataThreshold = 1024 });
        FimWriter.Save(graph, FimPath);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
