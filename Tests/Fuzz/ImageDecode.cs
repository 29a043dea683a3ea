using FastInfer.Cli.Inputs;
using StbImageSharp;

namespace FastInfer.Tests.Fuzz;

/// <summary>
/// Decodes an image the way an image-model front end should: the CLI's <see cref="ImageGuard"/> first (absurd
/// dimensions, PNG chunks longer than the file) before StbImageSharp allocates, then decode. StbImageSharp reports a bad image with
/// <see cref="InvalidOperationException"/> or a plain <see cref="Exception"/> carrying stb's reason; its header probe
/// (<see cref="ImageInfo.FromStream"/>) can also raise <see cref="IOException"/> on truncated streams.
/// </summary>
internal static class ImageDecode
{
    public const long MaxPixels = 1 << 24;

    public static void Load(byte[] bytes)
    {
        ImageGuard.Check(bytes, MaxPixels);
        var image = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue);
        if (image.Data.Length != image.Width * image.Height * 3) throw new InvalidOperationException("decoded size does not match the header");
    }

    /// <summary>stb's failures, and the stream errors its header probe raises on truncated input.</summary>
    public static bool IsDocumented(Exception e) => e is InvalidOperationException or IOException || e.GetType() == typeof(Exception);
}
