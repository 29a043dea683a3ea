using System.IO.MemoryMappedFiles;

namespace FastInfer.ModelGen;

/// <summary>
/// A tensor too large to build in memory: its values are streamed to a temporary file, which is then mapped
/// read-only so the writers can stream it on (the pages are file-backed and evictable, so a 4 GB weight never needs
/// 4 GB of anonymous memory). Deleted on Dispose.
/// </summary>
internal sealed unsafe class TempFileTensor : IDisposable
{
    private readonly string _path;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private bool _acquired;

    public nint Pointer { get; }
    public long ByteLength { get; }

    public TempFileTensor(string folder, long floats, ulong seed, float scale)
    {
        _path = Path.Combine(folder, $"modelgen-{Environment.ProcessId}-{seed}.weights.tmp");
        ByteLength = floats * sizeof(float);
        var rng = new SeededWeights(seed);
        var chunk = new float[1 << 20];
        using (var stream = new FileStream(_path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            for (long done = 0; done < floats; done += chunk.Length)
            {
                var span = chunk.AsSpan(0, (int)Math.Min(chunk.Length, floats - done));
                rng.Fill(span, scale);
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(span));
            }
        }
        _map = MemoryMappedFile.CreateFromFile(_path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _acquired = true;
        Pointer = (nint)(p + _view.PointerOffset);
    }

    public void Dispose()
    {
        if (_acquired) { _view.SafeMemoryMappedViewHandle.ReleasePointer(); _acquired = false; }
        _view.Dispose();
        _map.Dispose();
        try { File.Delete(_path); } catch (IOException) { }
    }
}
