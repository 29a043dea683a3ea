using System.Buffers.Binary;
using FastInfer.Tests.Support;
using Xunit;

namespace FastInfer.Tests.Cli;

/// <summary>
/// Hostile images given to the CLI: a 1×1 PNG whose data chunk declares 256 MB (StbImageSharp would allocate that
/// before reading it) and a PNG header declaring 15 000 × 15 000 pixels. Both must stop at the shared
/// <c>ImageGuard</c> with exit 2 and one line, without the allocation.
/// </summary>
public class CliImageGuardTests
{
    /// <summary>PNG signature, an IHDR of the given size (8-bit RGB), then a chunk of the given type and declared length.</summary>
    private static byte[] Png(uint width, uint height, string chunkType, uint declaredLength, int bytesPresent)
    {
        var b = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n' };
        void U32(uint v) { var x = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(x, v); b.AddRange(x); }
        void Chunk(string type, byte[] data, uint? length = null)
        {
            U32(length ?? (uint)data.Length);
            b.AddRange(System.Text.Encoding.ASCII.GetBytes(type));
            b.AddRange(data);
            U32(0); // CRC: stb does not check it
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit, RGB
        Chunk("IHDR", ihdr);
        Chunk(chunkType, new byte[bytesPresent], declaredLength);
        return [.. b];
    }

    [Theory]
    [InlineData(1u, 1u, 0x10000000u, "PNG chunk")]          // 256 MB declared in a ~300-byte file
    [InlineData(15_000u, 15_000u, 16u, "image size")]        // 2.25·10^8 pixels declared (the CLI allows 10^8)
    public void HostilePngExitsTwoWithOneLineAndNoLargeAllocation(uint width, uint height, uint declared, string expected)
    {
        using var dir = new CliHarness.TempDir();
        string model = dir.Write("seed.onnx", SeedCnn.Build(28, 28, 1));
        string png = dir.Write("hostile.png", Png(width, height, "IDAT", declared, declared == 16 ? 16 : 260));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var r = CliHarness.Invoke("run", model, "--input", "input=" + png, "--grayscale", "--threads", "1");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(r.Code == 2, r.ToString());
        string err = r.Err.TrimEnd('\r', '\n');
        Assert.DoesNotContain('\n', err);
        Assert.StartsWith("fastinfer: error: hostile.png: not a readable image", err);
        Assert.True(err.Contains(expected, StringComparison.Ordinal), err);
        Assert.True(allocated < 64 << 20, $"allocated {allocated} bytes for a hostile {new FileInfo(png).Length}-byte PNG");
    }
}
