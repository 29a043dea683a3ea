using FastInfer.Tests.Formats.OnnxTests;

namespace FastInfer.Tests.Support;

/// <summary>Paths of the real models the tests use, from restored NuGet packages.</summary>
internal static class TestModels
{
    public static string? ResNet18 => OnnxTestPaths.ResNet18;

    /// <summary>A deterministic, image-like input: smooth gradients plus seeded noise, roughly ImageNet-normalized scale.</summary>
    public static float[] ImageLike(int channels, int height, int width, int seed)
    {
        var rng = new Random(seed);
        var data = new float[channels * height * width];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    data[(c * height + y) * width + x] = (float)(Math.Sin((x + seed) * 0.05 * (c + 1)) * Math.Cos(y * 0.03) * 1.5 + (rng.NextDouble() - 0.5) * 0.5);
        return data;
    }
}
