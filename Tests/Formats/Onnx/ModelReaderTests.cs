using FastInfer.Formats;
using FastInfer.Ir;
using Google.Protobuf;
using Xunit;

namespace FastInfer.Tests.Formats.OnnxTests;

/// <summary><see cref="ModelReader"/> picks the reader from the file's first bytes.</summary>
[Collection(ModelReaderCollection.Name)]
public class ModelReaderTests
{
    private static void WithFile(byte[] bytes, Action<string> test)
    {
        string path = Path.Combine(Path.GetTempPath(), $"fi-sniff-{Guid.NewGuid()}.bin");
        File.WriteAllBytes(path, bytes);
        try { test(path); } finally { File.Delete(path); }
    }

    [Fact]
    public void Onnx_is_the_default() => WithFile(PbBuild.SmallConv().ToByteArray(), path =>
    {
        using var g = ModelReader.Load(path);
        Assert.Equal("onnx", g.SourceFormat);
        Assert.Equal(2, g.Nodes.Count);
    });

    [Fact]
    public void Keras_and_fim_files_go_to_their_hooks_or_fail_clearly()
    {
        byte[] hdf = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n', 0, 0];
        byte[] zip = [(byte)'P', (byte)'K', 3, 4, 0, 0];
        byte[] fim = [.. "FIMODEL\0"u8, 1, 0];
        var (keras, fimLoader) = (ModelReader.KerasLoader, ModelReader.FimLoader);
        try
        {
            ModelReader.KerasLoader = null;
            ModelReader.FimLoader = null;
            WithFile(hdf, p => Assert.Contains("Keras support not available", Assert.Throws<ModelFormatException>(() => ModelReader.Load(p)).Message));
            WithFile(zip, p => Assert.Contains("Keras support not available", Assert.Throws<ModelFormatException>(() => ModelReader.Load(p)).Message));
            WithFile(fim, p => Assert.Contains(".fim support not available", Assert.Throws<ModelFormatException>(() => ModelReader.Load(p)).Message));

            string? seen = null;
            ModelReader.KerasLoader = (p, _) => { seen = "keras:" + p; return new ModelGraph { SourceFormat = "keras" }; };
            ModelReader.FimLoader = (p, _) => { seen = "fim:" + p; return new ModelGraph { SourceFormat = "fim" }; };
            WithFile(hdf, p => { using var g = ModelReader.Load(p); Assert.Equal("keras", g.SourceFormat); Assert.Equal("keras:" + p, seen); });
            WithFile(zip, p => { using var g = ModelReader.Load(p); Assert.Equal("keras", g.SourceFormat); });
            WithFile(fim, p => { using var g = ModelReader.Load(p); Assert.Equal("fim", g.SourceFormat); Assert.Equal("fim:" + p, seen); });
        }
        finally
        {
            ModelReader.KerasLoader = keras;
            ModelReader.FimLoader = fimLoader;
        }
    }

    [Fact]
    public void Missing_and_empty_files_fail_clearly()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"fi-missing-{Guid.NewGuid()}.onnx");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => ModelReader.Load(missing)).Message);
        WithFile([], p => Assert.Contains("empty", Assert.Throws<ModelFormatException>(() => ModelReader.Load(p)).Message));
        WithFile([0x08], p => Assert.Throws<ModelFormatException>(() => ModelReader.Load(p)));
    }
}

/// <summary>
/// The loader hooks are static and these tests swap them, so they run alone: alongside the Keras tests a swapped-out
/// Keras loader made those fail ("KerasLoader is not set").
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ModelReaderCollection
{
    public const string Name = "Model reader hooks (runs alone)";
}
