using StbImageSharp;

namespace FastInfer.Tests.Fuzz;

/// <summary>
/// Decodes an image the way an image-model front end should: read the header first and refuse absurd dimensions
/// before StbImageSharp allocates width × height × channels, then decode. StbImageSharp reports a bad image with
/// <see cref="InvalidOperationException"/> or a plain <see cref="Exception"/> carrying stb's reason; its header probe
/// (<see cref="ImageInfo.FromStream"/>) can also raise <see cref="IOException"/> on truncated streams.
/// </summary>
internal static class ImageDecode
{
    public const long MaxPixels = 1 << 24;

    public static void Load(byte[] bytes)
    {
        using (var header = new MemoryStream(bytes, writable: false))
        {
            var info = ImageInfo.FromStream(header) ?? throw new InvalidOperationException("not an image StbImageSharp recognizes");
            if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > MaxPixels)
                throw new InvalidOperationException($"image of {info.Width}×{info.Height} pixels is over the limit of {MaxPixels}");
        }
        CheckPngChunks(bytes);
        var image = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue);
        if (image.Data.Length != image.Width * image.Height * 3) throw new InvalidOperationException("decoded size does not match the header");
    }

    /// <summary>
    /// stb allocates a PNG chunk's declared length before reading it (the fuzz found 256 MB for a 300-byte file), so
    /// every chunk must fit in the bytes that are there.
    /// </summary>
    private static void CheckPngChunks(byte[] bytes)
    {
        ReadOnlySpan<byte> png = [0x89, (byte)'P', (byte)'N', (byte)'G', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];
        if (!bytes.AsSpan().StartsWith(png)) return;
        long at = 8;
        while (at + 8 <= bytes.Length)
        {
            uint length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)at));
            if (length > bytes.Length - at - 12)
                throw new InvalidOperationException($"PNG chunk at byte {at} declares {length} bytes, past the end of the file");
            at += 12 + length;
        }
    }

    /// <summary>stb's failures, and the stream errors its header probe raises on truncated input.</summary>
    public static bool IsDocumented(Exception e) => e is InvalidOperationException or IOException || e.GetType() == typeof(Exception);
}
