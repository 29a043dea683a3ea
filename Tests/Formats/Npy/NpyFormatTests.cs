using System.Text;
using FastInfer.Formats;
using FastInfer.Formats.Npy;
using FastInfer.Ir;
using Xunit;

namespace FastInfer.Tests.Formats.Npy;

/// <summary>
/// The .npy reader and writer against byte layouts written out by hand from NumPy's documented format
/// (numpy.lib.format: magic, version, little-endian header length, dict literal padded to 64 bytes, data).
/// </summary>
public class NpyFormatTests
{
    /// <summary>A file as NumPy lays it out: version 1.0, header padded with spaces to a multiple of 64, ending in '\n'.</summary>
    internal static byte[] HandWritten(string dict, byte[] data, byte major = 1)
    {
        int prefix = major == 1 ? 10 : 12;
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        string header = dict + new string(' ', total - prefix - dict.Length - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 };
        if (major == 1) { bytes.Add((byte)(header.Length & 0xFF)); bytes.Add((byte)(header.Length >> 8)); }
        else bytes.AddRange(BitConverter.GetBytes((uint)header.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void ReadsFloat32Matrix()
    {
        var file = HandWritten("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(1, 2, 3, 4, 5, 6));
        var a = NpyReader.Read(file);
        Assert.Equal(DataType.Float, a.ElementType);
        Assert.Equal(new long[] { 2, 3 }, a.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, a.AsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData("<f8", DataType.Double, 8)]
    [InlineData("<i8", DataType.Int64, 8)]
    [InlineData("<i4", DataType.Int32, 4)]
    [InlineData("|b1", DataType.Bool, 1)]
    [InlineData("|u1", DataType.UInt8, 1)]
    public void ReadsEachSupportedType(string descr, DataType type, int size)
    {
        var data = Enumerable.Range(0, 3 * size).Select(i => (byte)(i % 2)).ToArray();
        var a = NpyReader.Read(HandWritten($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}", data));
        Assert.Equal(type, a.ElementType);
        Assert.Equal(new long[] { 3 }, a.Shape);
        Assert.Equal(data, a.Data);
    }

    [Fact]
    public void ReadsScalarAndEmptyAndVersion2AndDoubleQuotes()
    {
        var scalar = NpyReader.Read(HandWritten("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", BitConverter.GetBytes(42L)));
        Assert.Empty(scalar.Shape);
        Assert.Equal(42L, scalar.AsSpan<long>()[0]);

        var empty = NpyReader.Read(HandWritten("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", []));
        Assert.Equal(new long[] { 0, 5 }, empty.Shape);

        var v2 = NpyReader.Read(HandWritten("{\"shape\": (1,), \"fortran_order\": False, \"descr\": \"<f4\"}", Floats(7), major: 2));
        Assert.Equal(7f, v2.AsSpan<float>()[0]);
    }

    [Fact]
    public void SwapsBigEndian()
    {
        var a = NpyReader.Read(HandWritten("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 1, 2]));
        Assert.Equal(0x0102, a.AsSpan<int>()[0]);
    }

    [Fact]
    public void WriterProducesNumPysLayout()
    {
        var bytes = NpyWriter.ToBytes(NpyArray.Create<float>([1, 2, 3, 4, 5, 6], 2, 3));
        var expected = HandWritten("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(1, 2, 3, 4, 5, 6));
        Assert.Equal(expected, bytes);
        var oneD = NpyWriter.ToBytes(NpyArray.Create<long>([5], 1));
        Assert.Equal(HandWritten("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", BitConverter.GetBytes(5L)), oneD);
        Assert.Equal(0, (bytes.Length - 24) % 64);
    }

    [Fact]
    public void RoundTripsEveryType()
    {
        var rng = new Random(3);
        foreach (var type in new[] { DataType.Float, DataType.Double, DataType.Int64, DataType.Int32, DataType.Bool, DataType.UInt8, DataType.Int8, DataType.Float16 })
        {
            long[] shape = [2, 1, 3, 4];
            var data = new byte[24 * type.SizeInBytes()];
            rng.NextBytes(data);
            if (type == DataType.Bool) for (int i = 0; i < data.Length; i++) data[i] &= 1;
            var back = NpyReader.Read(NpyWriter.ToBytes(new NpyArray(type, shape, data)));
            Assert.Equal(type, back.ElementType);
            Assert.Equal(shape, back.Shape);
            Assert.Equal(data, back.Data);
        }
    }

    [Fact]
    public void RoundTripsThroughAFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fastinfer-npy-{Guid.NewGuid():N}.npy");
        try
        {
            NpyWriter.Write(path, NpyArray.Create<double>([1.5, -2.25], 2));
            var a = NpyReader.Read(path);
            Assert.Equal(new[] { 1.5, -2.25 }, a.AsSpan<double>().ToArray());
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "fortran_order")]
    [InlineData("{'descr': '|O', 'fortran_order': False, 'shape': (6,), }", "descr")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", "descr")]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", "descr")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", "shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }", "data")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", "data")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}", "header")]
    [InlineData("not a dict", "header")]
    public void RejectsBadHeadersNamingTheField(string dict, string field)
    {
        var e = Assert.Throws<ModelFormatException>(() => NpyReader.Read(HandWritten(dict, Floats(1, 2, 3, 4, 5, 6)), sourceName: "x.npy"));
        Assert.Contains(field, e.Message);
        Assert.Contains("x.npy", e.Message);
    }

    [Fact]
    public void RejectsBadMagicVersionAndTruncation()
    {
        var good = HandWritten("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Floats(1, 2));
        Assert.Throws<ModelFormatException>(() => NpyReader.Read("PK\x03\x04"u8));
        Assert.Throws<ModelFormatException>(() => NpyReader.Read(ReadOnlySpan<byte>.Empty));
        var badVersion = (byte[])good.Clone();
        badVersion[6] = 9;
        Assert.Contains("version", Assert.Throws<ModelFormatException>(() => NpyReader.Read(badVersion)).Message);
        for (int cut = 0; cut < good.Length; cut++)
            Assert.Throws<ModelFormatException>(() => NpyReader.Read(good.AsSpan(0, cut)));
        var hugeHeader = (byte[])good.Clone();
        hugeHeader[8] = 0xFF; hugeHeader[9] = 0xFF;
        Assert.Throws<ModelFormatException>(() => NpyReader.Read(hugeHeader));
    }

    [Fact]
    public void FortranOrderWithOneNonUnitDimIsTheSameLayoutAndAccepted()
    {
        var a = NpyReader.Read(HandWritten("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", Floats(1, 2)));
        Assert.Equal(new float[] { 1, 2 }, a.AsSpan<float>().ToArray());
    }

    [Fact]
    public void MutatedFilesLoadOrThrowModelFormatException()
    {
        var corpus = new[]
        {
            NpyWriter.ToBytes(NpyArray.Create<float>([1, 2, 3, 4, 5, 6], 2, 3)),
            NpyWriter.ToBytes(NpyArray.Create<long>([1, 2, 3], 3)),
            NpyWriter.ToBytes(NpyArray.Create<bool>([true, false], 2, 1)),
        };
        var rng = new Random(12345);
        int loaded = 0, rejected = 0;
        for (int i = 0; i < 3000; i++)
        {
            var bytes = corpus[i % corpus.Length].ToList();
            int edits = 1 + rng.Next(4);
            for (int e = 0; e < edits && bytes.Count > 0; e++)
            {
                int at = rng.Next(bytes.Count);
                switch (rng.Next(4))
                {
                    case 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                    case 1: bytes.RemoveRange(at, bytes.Count - at); break;
                    case 2: bytes.Insert(at, (byte)rng.Next(256)); break;
                    default: bytes.RemoveAt(at); break;
                }
            }
            try { NpyReader.Read(bytes.ToArray()); loaded++; }
            catch (ModelFormatException) { rejected++; }
        }
        Assert.Equal(3000, loaded + rejected);
        Assert.True(rejected > 0);
    }
}
