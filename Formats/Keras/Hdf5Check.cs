namespace FastInfer.Formats.Keras;

/// <summary>
/// The checks an HDF5 file passes before PureHDF opens it: its structure (<see cref="Hdf5StructureCheck"/>) and its
/// global heap collections (<see cref="Hdf5HeapCheck"/>). PureHDF 2.2 trusts the file's addresses and sizes, so a
/// hostile file could make it hang, overflow its stack or allocate gigabytes; these checks reject such a file first
/// with a <see cref="ModelFormatException"/> naming the structure and its byte offset.
/// </summary>
internal static class Hdf5Check
{
    /// <summary>The largest single metadata block (object header chunk, heap segment, B-tree node) the checks read.</summary>
    public const long MaxBlockBytes = 64L << 20;

    public static void Check(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Run(Hdf5Bytes.Of(handle), path);
    }

    /// <summary>Checks a seekable stream (the weights inside a .keras zip) and rewinds it.</summary>
    public static void Check(Stream stream, string? file)
    {
        try { Run(Hdf5Bytes.Of(stream), file); }
        finally { stream.Position = 0; }
    }

    /// <summary>Checks bytes in memory.</summary>
    public static void Check(byte[] bytes, string? file) => Run(Hdf5Bytes.Of(bytes), file);

    /// <summary>
    /// Where the file's written contiguous datasets keep their values (address, bytes), from the same walk as the check;
    /// <see cref="Hdf5WeightValues"/> reads a large weight straight from there.
    /// </summary>
    public static IReadOnlyList<(ulong Address, ulong Bytes)> ContiguousDatasets(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Run(Hdf5Bytes.Of(handle), path);
    }

    private static IReadOnlyList<(ulong Address, ulong Bytes)> Run(Hdf5Bytes bytes, string? file)
    {
        try
        {
            var contiguous = Hdf5StructureCheck.Run(bytes);
            Hdf5HeapCheck.Check(bytes);
            return contiguous;
        }
        catch (Hdf5FormatError e)
        {
            throw new ModelFormatException(e.Message, file);
        }
    }

    public static Exception Corrupt(string what, ulong offset, string detail) =>
        new Hdf5FormatError($"the HDF5 {what} at byte {offset} is corrupt: {detail}");

    public static Exception Unsupported(string what, ulong offset, string detail) =>
        new Hdf5FormatError($"the HDF5 {what} at byte {offset} uses {detail}, which FastInfer does not read");

    /// <summary>Carries a check's finding up to <see cref="Run"/>, which knows the file name.</summary>
    private sealed class Hdf5FormatError(string message) : Exception(message);
}
