using StbImageSharp;

namespace FastInfer.Cli.Inputs;

/// <summary>An image decoded to interleaved 8-bit pixels (HWC), RGB or gray.</summary>
public sealed record DecodedImage(int Width, int Height, int Channels, byte[] Pixels);

/// <summary>
/// Decodes PNG, JPEG, BMP, GIF, TGA, PSD with StbImageSharp. Image files are input like any other: dimensions and PNG
/// chunk lengths are checked before decoding (<see cref="ImageGuard"/>: bounded memory), and any decoder failure becomes a one-line error.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Largest image accepted (pixels); about 100 megapixels.</summary>
    public const long MaxPixels = 100_000_000;

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".psd"];

    public static bool IsImagePath(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static DecodedImage Decode(string path, bool grayscale) => Decode(File.ReadAllBytes(path), grayscale, path);

    public static DecodedImage Decode(byte[] bytes, bool grayscale, string name)
    {
        // Header dimensions and PNG chunk lengths first (ImageGuard), so a hostile file cannot make stb allocate without bound.
        try { ImageGuard.Check(bytes, MaxPixels); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CliException($"{Path.GetFileName(name)}: not a readable image ({CommandGuard.OneLine(e.Message)})");
        }
        try
        {
            var result = ImageResult.FromMemory(bytes, grayscale ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
            int channels = grayscale ? 1 : 3;
            if (result.Data is null || result.Data.Length != (long)result.Width * result.Height * channels)
                throw new CliException($"{Path.GetFileName(name)}: the image decoded to an unexpected size");
            return new DecodedImage(result.Width, result.Height, channels, result.Data);
        }
        catch (CliException) { throw; }
        catch (Exception e) { throw new CliException($"{Path.GetFileName(name)}: the image could not be decoded ({e.Message})"); }
    }

    /// <summary>
    /// Bilinear resize to <paramref name="width"/>×<paramref name="height"/> with pixel centres aligned (the
    /// half-pixel convention of OpenCV's INTER_LINEAR and ONNX Resize), returning planar floats [C][H][W] in 0..255.
    /// </summary>
    public static float[] ResizeToPlanar(DecodedImage image, int width, int height)
    {
        int c = image.Channels, sw = image.Width, sh = image.Height;
        var result = new float[c * width * height];
        float sx = (float)sw / width, sy = (float)sh / height;
        for (int y = 0; y < height; y++)
        {
            float fy = Math.Clamp((y + 0.5f) * sy - 0.5f, 0, sh - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, sh - 1);
            float wy = fy - y0;
            for (int x = 0; x < width; x++)
            {
                float fx = Math.Clamp((x + 0.5f) * sx - 0.5f, 0, sw - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, sw - 1);
                float wx = fx - x0;
                for (int ch = 0; ch < c; ch++)
                {
                    float p00 = image.Pixels[(y0 * sw + x0) * c + ch], p01 = image.Pixels[(y0 * sw + x1) * c + ch];
                    float p10 = image.Pixels[(y1 * sw + x0) * c + ch], p11 = image.Pixels[(y1 * sw + x1) * c + ch];
                    float top = p00 + (p01 - p00) * wx, bottom = p10 + (p11 - p10) * wx;
                    result[(ch * height + y) * width + x] = top + (bottom - top) * wy;
                }
            }
        }
        return result;
    }
}
