using System.Buffers.Binary;
using StbImageSharp;

namespace FastInfer.Cli.Inputs;

/// <summary>
/// Checks an image file before StbImageSharp decodes it, so a small hostile file cannot make the decoder allocate
/// without bound: the header's width × height must be within a limit, and every PNG chunk's declared length must fit
/// in the bytes that are there (stb allocates a chunk's declared length before reading it; the fuzz found 256 MB for a
/// 300-byte PNG). The one copy of this check: the CLI's <see cref="ImageDecoder"/> and the image fuzz tests use it.
/// </summary>
public static class ImageGuard
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];

    /// <summary>
    /// Returns the header of an image that is safe to decode. Throws <see cref="InvalidOperationException"/> naming
    /// what is wrong (unknown format, dimensions, the PNG chunk and its byte offset); StbImageSharp's header probe may
    /// itself raise <see cref="IOException"/> or <see cref="Exception"/> on truncated input, which pass through.
    /// </summary>
    public static ImageInfo Check(byte[] bytes, long maxPixels)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ImageInfo info;
        using (var header = new MemoryStream(bytes, writable: false))
            info = ImageInfo.FromStream(header) ?? throw new InvalidOperationException("not an image StbImageSharp recognizes");
        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > maxPixels)
            throw new InvalidOperationException($"image size {info.Width}×{info.Height} is outside 1..{maxPixels} pixels");
        CheckPngChunks(bytes);
        return info;
    }

    /// <summary>Every chunk (4-byte length, type, data, CRC) must end within the file.</summary>
    private static void CheckPngChunks(byte[] bytes)
    {
        if (!bytes.AsSpan().StartsWith(PngSignature)) return;
        long at = PngSignature.Length;
        while (at + 8 <= bytes.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)at));
            if (length > bytes.Length - at - 12)
                throw new InvalidOperationException($"PNG chunk at byte {at} declares {length} bytes, past the end of the file ({bytes.Length} bytes)");
            at += 12 + length;
        }
    }
}
