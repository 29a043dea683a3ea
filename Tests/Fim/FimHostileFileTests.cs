using System.Buffers.Binary;
using FastInfer.Formats;
using FastInfer.Formats.Fim;
using Xunit;

namespace FastInfer.Tests.Fim;

/// <summary>Corrupt, truncated and hostile .fim files fail with <see cref="ModelFormatException"/> naming the field.</summary>
public class FimHostileFileTests
{
    private static byte[] ValidFile(FimTestFiles files)
    {
        string path = files.PathOf("valid.fim");
        using (var g = FimRoundTripTests.BuildRichGraph()) FimWriter.Save(g, path);
        return File.ReadAllBytes(path);
    }

    private static ModelFormatException LoadFails(FimTestFiles files, byte[] bytes, ReaderLimits? limits = null)
    {
        string path = files.PathOf("bad.fim");
        File.WriteAllBytes(path, bytes);
        return Assert.Throws<ModelFormatException>(() => FimReader.Load(path, limits).Dispose());
    }

    [Theory]
    [InlineData(WeightPlacement.Pinned)]
    [InlineData(WeightPlacement.Mapped)]
    public void FlippedWeightByteIsCaughtByTheTensorChecksum(WeightPlacement placement)
    {
        using var files = new FimTestFiles();
        byte[] bytes = ValidFile(files);
        bytes[4096 + 3] ^= 0x40; // inside the first tensor ('w')
        var e = LoadFails(files, bytes, ReaderLimits.Default with { WeightPlacement = placement });
        Assert.Contains("checksum", e.Message);
        Assert.Contains("'w'", e.Message);

        // Trusted-file mode skips the per-tensor pass and loads the (altered) weights.
        string path = files.PathOf("bad.fim");
        using var g = FimReader.Load(path, ReaderLimits.Default with { WeightPlacement = placement, VerifyTensorChecksums = false });
        Assert.NotNull(g.Initializers["w"]);
    }

    [Fact]
    public void TruncatedFileIsReported()
    {
        using var files = new FimTestFiles();
        byte[] bytes = ValidFile(files);
        var e = LoadFails(files, bytes[..(bytes.Length - 10)]);
        Assert.Contains("header.file_length", e.Message);
        Assert.Contains("header", LoadFails(files, bytes[..40]).Message);
    }

    [Fact]
    public void HeaderAndGraphChecksumsAreVerified()
    {
        using var files = new FimTestFiles();
        byte[] bytes = ValidFile(files);
        var header = (byte[])bytes.Clone();
        header[30] ^= 1;
        Assert.Contains("header.checksum", LoadFails(files, header).Message);
        var graph = (byte[])bytes.Clone();
        graph[^3] ^= 1;
        Assert.Contains("graph section checksum", LoadFails(files, graph).Message);
    }

    [Fact]
    public void UnknownMajorVersionIsRefused()
    {
        using var files = new FimTestFiles();
        byte[] bytes = ValidFile(files);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 99);
        FimTestFiles.Reseal(bytes);
        Assert.Contains("version 99", LoadFails(files, bytes).Message);
    }

    [Fact]
    public void HostileDirectoryCountIsRefusedBeforeAllocating()
    {
        using var files = new FimTestFiles();
        byte[] bytes = ValidFile(files);
        var (offset, _) = FimTestFiles.GraphSection(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan((int)offset), int.MaxValue);
        FimTestFiles.Reseal(bytes);
        Assert.Contains("tensor_directory.count", LoadFails(files, bytes).Message);
    }

    [Fact]
    public void TensorRangeOutsideTheDataAreaIsRefused()
    {
        using var files = new FimTestFiles();
        byte[] bytes = ValidFile(files);
        var (offset, _) = FimTestFiles.GraphSection(bytes);
        // Entry 0 is 'w' float[3,5]: count(4) name(4+1) type(4) rank(4) dims(16) kind(1), then the offset.
        int at = (int)offset + 4 + 5 + 4 + 4 + 16 + 1;
        Assert.Equal(4096, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at)));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), long.MaxValue - 4095);
        FimTestFiles.Reseal(bytes);
        Assert.Contains("tensor_directory[0] 'w'.offset", LoadFails(files, bytes).Message);
    }

    [Fact]
    public void LimitsApplyToTheDirectory()
    {
        using var files = new FimTestFiles();
        byte[] bytes = ValidFile(files);
        var e = LoadFails(files, bytes, ReaderLimits.Default with { MaxTensorBytes = 16 });
        Assert.Contains("MaxTensorBytes", e.Message);
    }

    /// <summary>Random edits of the graph section, resealed so they pass the checksums: the reader must either load the
    /// file or throw ModelFormatException — never crash, hang or throw anything else.</summary>
    [Fact]
    public void MutatedGraphSectionsFailCleanly()
    {
        using var files = new FimTestFiles();
        byte[] valid = ValidFile(files);
        var (offset, length) = FimTestFiles.GraphSection(valid);
        var rng = new Random(1234);
        string path = files.PathOf("mut.fim");
        for (int iter = 0; iter < 300; iter++)
        {
            var bytes = (byte[])valid.Clone();
            int edits = rng.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                int at = (int)offset + rng.Next((int)length);
                bytes[at] = rng.Next(3) switch { 0 => 0xFF, 1 => 0x7F, _ => (byte)rng.Next(256) };
            }
            FimTestFiles.Reseal(bytes);
            File.WriteAllBytes(path, bytes);
            try { FimReader.Load(path, ReaderLimits.Default with { WeightPlacement = iter % 2 == 0 ? WeightPlacement.Mapped : WeightPlacement.Pinned }).Dispose(); }
            catch (ModelFormatException) { }
        }
    }
}
