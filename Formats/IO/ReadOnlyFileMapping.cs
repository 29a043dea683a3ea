using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace FastInfer.Formats.IO;

/// <summary>
/// A whole file mapped read-only at a stable address, kept alive by the graph whose tensors point into it
/// (<see cref="Ir.ModelGraph.Own"/>) or by the reader that parses it (.fim files, ONNX models and external data). Pages are loaded on first touch and shared with every other process mapping
/// the same file.
/// </summary>
internal sealed unsafe class ReadOnlyFileMapping : IDisposable
{
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private bool _acquired;

    public byte* Pointer { get; private set; }
    public long Length { get; }

    public ReadOnlyFileMapping(SafeFileHandle handle, long length)
    {
        Length = length;
        try
        {
            _map = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _acquired = true;
            Pointer = p + _view.PointerOffset;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_acquired) { _view!.SafeMemoryMappedViewHandle.ReleasePointer(); _acquired = false; }
        _view?.Dispose();
        _map?.Dispose();
        _view = null;
        _map = null;
        Pointer = null;
    }
}
