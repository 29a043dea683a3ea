using System.Buffers.Binary;
using System.IO.Hashing;

namespace FastInfer.Tests.Fim;

/// <summary>
/// Temp files for .fim tests, and a way to tamper with a file's graph section while keeping its checksums valid, so the
/// reader's structural checks (not only the checksum) are exercised. Offsets follow the documented header layout.
/// </summary>
internal sealed class FimTestFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("fim-tests-").FullName;

    public string PathOf(string name) => System.IO.Path.Combine(Folder, name);

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    /// <summary>(graph offset, graph length) from the header.</summary>
    public static (long Offset, long Length) GraphSection(byte[] file) =>
        (BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(24)), BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(32)));

    /// <summary>Recomputes the graph and header checksums after the graph section was edited.</summary>
    public static void Reseal(byte[] file)
    {
        var (offset, length) = GraphSection(file);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(40), XxHash3.HashToUInt64(file.AsSpan((int)offset, (int)length)));
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(56), XxHash3.HashToUInt64(file.AsSpan(0, 56)));
    }
}
