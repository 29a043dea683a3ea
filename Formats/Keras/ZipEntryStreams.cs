using System.IO.Compression;

namespace FastInfer.Formats.Keras;

/// <summary>
/// Opens the weights entry of a <c>.keras</c> zip as a seekable <see cref="FileStream"/> without loading it into
/// memory: the entry (stored or deflated) is copied to a temporary file that is deleted on close. PureHDF then reads
/// each weight straight into its final buffer. A file, not a window onto the zip: PureHDF 2.2 reads datasets through
/// a FileStream's handle about 70x faster than through any other stream (measured: 128 MB in 0.17 s vs 12 s).
/// </summary>
internal static class ZipEntryStreams
{
    public static Stream OpenSeekable(string zipPath, ZipArchiveEntry entry, ReaderLimits limits)
    {
        if (entry.Length > limits.MaxFileBytes)
            throw new ModelFormatException($"zip entry '{entry.FullName}' is {entry.Length} bytes, over the limit {limits.MaxFileBytes}", zipPath, entry.FullName);
        var temp = new FileStream(Path.Combine(Path.GetTempPath(), $"fastinfer_{Guid.NewGuid():N}.h5"), FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        try
        {
            using (var source = entry.Open())
            {
                var buffer = new byte[1 << 16];
                long total = 0;
                int n;
                while ((n = source.Read(buffer)) > 0)
                {
                    total += n;
                    if (total > entry.Length || total > limits.MaxFileBytes)
                        throw new ModelFormatException($"zip entry '{entry.FullName}' inflates past its declared size {entry.Length}", zipPath, entry.FullName);
                    temp.Write(buffer, 0, n);
                }
                if (total != entry.Length)
                    throw new ModelFormatException($"zip entry '{entry.FullName}' does not match its declared size", zipPath, entry.FullName);
            }
            temp.Position = 0;
            return temp;
        }
        catch (InvalidDataException e)
        {
            temp.Dispose();
            throw new ModelFormatException($"zip entry '{entry.FullName}' is corrupt: {e.Message}", zipPath, entry.FullName, e);
        }
        catch
        {
            temp.Dispose();
            throw;
        }
    }
}
