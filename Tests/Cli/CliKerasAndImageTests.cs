using FastInfer.Formats.Npy;
using Xunit;

namespace FastInfer.Tests.Cli;

/// <summary>The Keras paths of the CLI on the shared Keras files: image inputs, check through the ONNX writer, reference outputs.</summary>
public class CliKerasAndImageTests
{
    private static string? Shared(string relative)
    {
        string root = Environment.GetEnvironmentVariable("FASTINFER_SHARED") ?? "/work/shared";
        string path = Path.Combine(root, "keras-models", relative);
        return File.Exists(path) ? path : null;
    }

    [Fact]
    public void MnistKerasModelClassifiesDigitImages()
    {
        string? model = Shared("keras3_mnist_cnn/mnist_model.keras");
        if (model is null) return; // the shared Keras files are not on this machine
        foreach (var digit in new[] { 1, 8 })
        {
            var r = CliHarness.Invoke("run", model, "--input", $"input_layer={Shared($"keras3_mnist_cnn/{digit}.png")}", "--scale", "1/255", "--grayscale", "--json");
            Assert.True(r.Code == 0, r.ToString());
            var output = r.Json().GetProperty("outputs")[0];
            Assert.Equal(digit, output.GetProperty("argmax").GetInt64());
            Assert.True(output.GetProperty("max").GetDouble() > 0.99);
        }
        // Without --grayscale the 3-channel image does not fit the 1-channel input: a usage error, exit 2.
        Assert.Equal(2, CliHarness.Invoke("run", model, "--input", Shared("keras3_mnist_cnn/1.png")!).Code);
    }

    [Fact]
    public void CheckKerasModelThroughOnnxRuntimeAndAgainstSavedPredictions()
    {
        string? model = Shared("dl4j_cnn_batch_norm/cnn_batch_norm.h5");
        if (model is null) return;
        string input = Shared("dl4j_cnn_batch_norm/input.npy")!, predictions = Shared("dl4j_cnn_batch_norm/predictions.npy")!;
        var viaOrt = CliHarness.Invoke("check", model, "--input", input, "--json");
        Assert.True(viaOrt.Code == 0, viaOrt.ToString());
        Assert.Equal("onnxruntime", viaOrt.Json().GetProperty("reference").GetString());
        var viaFile = CliHarness.Invoke("check", model, "--input", input, "--reference-output", predictions, "--json");
        Assert.True(viaFile.Code == 0, viaFile.ToString());
        Assert.Equal("reference_files", viaFile.Json().GetProperty("reference").GetString());
    }

    [Fact]
    public void ConvertKerasToOnnx()
    {
        string? model = Shared("keras3_mnist_cnn/mnist_model.keras");
        if (model is null) return;
        using var dir = new CliHarness.TempDir();
        var onnx = dir.File("mnist.onnx");
        Assert.Equal(0, CliHarness.Invoke("convert", model, "-o", onnx).Code);
        var r = CliHarness.Invoke("check", onnx, "--input", $"{Shared("keras3_mnist_cnn/8.png")}", "--scale", "1/255", "--grayscale");
        Assert.True(r.Code == 0, r.ToString());
    }

    [Fact]
    public void CorruptImageExitsTwo()
    {
        string? model = Shared("keras3_mnist_cnn/mnist_model.keras");
        if (model is null) return;
        using var dir = new CliHarness.TempDir();
        var png = File.ReadAllBytes(Shared("keras3_mnist_cnn/1.png")!);
        var bad = dir.Write("bad.png", png.AsSpan(0, png.Length / 2).ToArray());
        var r = CliHarness.Invoke("run", model, "--input", bad, "--grayscale");
        Assert.Equal(2, r.Code);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var garbage = dir.Write("garbage.jpg", [1, 2, 3, 4, 5]);
        Assert.Equal(2, CliHarness.Invoke("run", model, "--input", garbage, "--grayscale").Code);
    }
}
