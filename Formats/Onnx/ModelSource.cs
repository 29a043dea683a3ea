using Microsoft.Win32.SafeHandles;

namespace FastInfer.Formats.Onnx;

/// <summary>
/// The bytes being parsed, at a stable address, plus a way to copy a range of them into native memory.
/// Structure is parsed through <see cref="Pointer"/>; weight payloads are copied with <see cref="CopyTo"/>.
/// </summary>
internal abstract unsafe class ModelSource : IDisposable
{
    public byte* Pointer { get; protected set; }
    public long Length { get; protected set; }
    public string? FilePath { get; protected set; }
    /// <summary>The folder external data paths are relative to, or null when there is none.</summary>
    public string? BaseDirectory { get; protected set; }

    /// <summary>Copies [offset, offset+length) of the source to <paramref name="destination"/>; the range was validated by the parser.</summary>
    public abstract void CopyTo(long offset, byte* destination, long length);

    public abstract void Dispose();
}

/// <summary>Bytes the caller pinned (a span).</summary>
internal sealed unsafe class MemorySource : ModelSource
{
    public MemorySource(byte* pointer, long length, string? sourceName, string? baseDirectory)
    {
        Pointer = pointer; Length = length; FilePath = sourceName; BaseDirectory = baseDirectory;
    }

    public override void CopyTo(long offset, byte* destination, long length) =>
        Buffer.MemoryCopy(Pointer + offset, destination, length, length);

    public override void Dispose() { }
}

/// <summary>
/// A model file mapped read-only for the structural parse. Weight payloads are read with <see cref="RandomAccess"/>
/// from the file handle instead of through the mapping, so the mapped pages of the weights are never touched and
/// resident memory stays close to one copy of the weights (the aligned blocks), not two.
/// </summary>
internal sealed unsafe class MappedFileSource : ModelSource
{
    private readonly SafeFileHandle _handle;
    private readonly IO.ReadOnlyFileMapping? _mapping;

    public MappedFileSource(string path, long maxBytes)
    {
        FilePath = path;
        string full = Path.GetFullPath(path);
        BaseDirectory = Path.GetDirectoryName(full);
        if (!File.Exists(full)) throw new FileNotFoundException($"Model file not found: {path}", path);
        _handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            Length = RandomAccess.GetLength(_handle);
            if (Length == 0) throw new ModelFormatException("the file is empty", path);
            if (Length > maxBytes)
                throw new ModelFormatException($"the file is {Length} bytes, over the limit of {maxBytes} (ReaderLimits.MaxFileBytes)", path);
            _mapping = new IO.ReadOnlyFileMapping(_handle, Length);
            Pointer = _mapping.Pointer;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public override void CopyTo(long offset, byte* destination, long length) =>
        ExternalDataFiles.ReadExactly(_handle, offset, destination, length, FilePath!);

    public override void Dispose()
    {
        _mapping?.Dispose();
        _handle.Dispose();
        Pointer = null;
    }
}
