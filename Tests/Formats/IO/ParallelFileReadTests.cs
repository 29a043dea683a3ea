using System.Runtime.InteropServices;
using FastInfer.Formats;
using FastInfer.Formats.IO;
using Xunit;

namespace FastInfer.Tests.Formats.IO;

/// <summary>Large ranges read on several threads land byte for byte where a plain read puts them; a short file is reported.</summary>
[Collection(nameof(ParallelFileReadTests))] // changes ParallelFileRead.ParallelBytes, which other readers share
public unsafe class ParallelFileReadTests
{
    [Theory]
    [InlineData(1 << 20, 0)]
    [InlineData((1 << 20) + 4093, 17)] // parts of whole pages and an odd remainder, from an odd offset
    public void SplitReadsMatchTheFile(int length, int offset)
    {
        string path = Path.GetTempFileName();
        long saved = ParallelFileRead.ParallelBytes;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc((nuint)length, 64);
        try
        {
            var bytes = new byte[length + offset];
            new Random(length).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
            ParallelFileRead.ParallelBytes = 4096;
            using (var handle = File.OpenHandle(path))
                ParallelFileRead.ReadExactly(handle, offset, buffer, length, path);
            Assert.True(new ReadOnlySpan<byte>(buffer, length).SequenceEqual(bytes.AsSpan(offset)));
        }
        finally
        {
            ParallelFileRead.ParallelBytes = saved;
            NativeMemory.AlignedFree(buffer);
            File.Delete(path);
        }
    }

    [Fact]
    public void AFileShorterThanTheRangeIsReported()
    {
        string path = Path.GetTempFileName();
        long saved = ParallelFileRead.ParallelBytes;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc(1 << 20, 64);
        try
        {
            File.WriteAllBytes(path, new byte[(1 << 20) - 100]);
            ParallelFileRead.ParallelBytes = 4096;
            using var handle = File.OpenHandle(path);
            var e = Assert.Throws<ModelFormatException>(() => ParallelFileRead.ReadExactly(handle, 0, buffer, 1 << 20, path));
            Assert.Contains("unexpected end of file", e.Message);
        }
        finally
        {
            ParallelFileRead.ParallelBytes = saved;
            NativeMemory.AlignedFree(buffer);
            File.Delete(path);
        }
    }
}
