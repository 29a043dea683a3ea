using Microsoft.Win32.SafeHandles;

namespace FastInfer.Formats.Onnx;

/// <summary>
/// Opens the files that tensors' <c>external_data</c> point to, after checking that each path stays inside the
/// model's folder: a model is untrusted input, and "location" must not become a way to read /etc/passwd or
/// anything else outside the folder (absolute paths, <c>..</c>, and symlinks resolving outside are refused).
/// </summary>
internal sealed class ExternalDataFiles : IDisposable
{
    private readonly OnnxParseContext _context;
    private readonly Dictionary<string, (SafeFileHandle Handle, long Length)> _open = new(StringComparer.Ordinal);
    private string? _realBase;

    public ExternalDataFiles(OnnxParseContext context) => _context = context;

    /// <summary>Validates <paramref name="location"/> and opens it (once per file).</summary>
    public (SafeFileHandle Handle, long Length) Open(string location, string where)
    {
        string? baseDir = _context.Source.BaseDirectory;
        if (baseDir is null)
            throw _context.Error($"external data '{location}' needs the model's folder, but the model was loaded from memory without a base directory", where);
        if (location.Length == 0) throw _context.Error("external data has an empty 'location'", where);
        if (location.Contains('\0')) throw _context.Error("external data 'location' contains a NUL character", where);
        if (Path.IsPathRooted(location) || location.StartsWith('/') || location.StartsWith('\\') || (location.Length >= 2 && location[1] == ':'))
            throw _context.Error($"external data location '{location}' is an absolute path; it must be relative to the model's folder", where);
        foreach (string part in location.Split('/', '\\'))
            if (part == "..")
                throw _context.Error($"external data location '{location}' contains '..'; it must stay inside the model's folder", where);

        if (_open.TryGetValue(location, out var cached)) return cached;

        try
        {
            _realBase ??= RealPath(Path.GetFullPath(baseDir));
            string real = RealPath(Path.GetFullPath(Path.Combine(baseDir, location)));
            string prefix = _realBase.EndsWith(Path.DirectorySeparatorChar) ? _realBase : _realBase + Path.DirectorySeparatorChar;
            if (!real.StartsWith(prefix, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
                throw _context.Error($"external data location '{location}' resolves to '{real}', outside the model's folder", where);
            if (!File.Exists(real)) throw _context.Error($"external data file '{location}' does not exist", where);
            var handle = File.OpenHandle(real, FileMode.Open, FileAccess.Read, FileShare.Read);
            var entry = (handle, RandomAccess.GetLength(handle));
            _open[location] = entry;
            return entry;
        }
        catch (IOException e)
        {
            throw new ModelFormatException($"cannot open external data file '{location}': {e.Message}", _context.FilePath, where, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ModelFormatException($"cannot open external data file '{location}': {e.Message}", _context.FilePath, where, e);
        }
    }

    /// <summary>
    /// A read-only mapping of an external data file already opened with <see cref="Open"/>, created once per file. The
    /// first graph that asks owns it (tensors of all graphs of one parse share one lifetime: subgraphs are owned by the
    /// main graph), so it outlives this parse.
    /// </summary>
    public IO.ReadOnlyFileMapping Map(string location, FastInfer.Ir.ModelGraph owner)
    {
        if (_maps.TryGetValue(location, out var map)) return map;
        var (handle, length) = _open[location];
        map = new IO.ReadOnlyFileMapping(handle, length);
        owner.Own(map);
        _maps[location] = map;
        return map;
    }

    private readonly Dictionary<string, IO.ReadOnlyFileMapping> _maps = new(StringComparer.Ordinal);

    /// <summary>
    /// Resolves every symbolic link along <paramref name="fullPath"/>, component by component (like POSIX realpath), so a
    /// link anywhere in the path, not only the last component, is followed before the containment check.
    /// </summary>
    internal static string RealPath(string fullPath)
    {
        string root = Path.GetPathRoot(fullPath) ?? "";
        var pending = new Stack<string>(fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? root; continue; }
            string next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                // Bounded like the kernel's ELOOP so a link cycle cannot spin.
                if (++links > 40) throw new IOException($"too many levels of symbolic links at '{next}'");
                string resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                string resolvedRoot = Path.GetPathRoot(resolved) ?? "";
                foreach (string p in resolved[resolvedRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                    pending.Push(p);
                current = resolvedRoot;
                continue;
            }
            current = next;
        }
        return current.Length == 0 ? root : current;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/> into native memory (large ranges on several threads).</summary>
    internal static unsafe void ReadExactly(SafeFileHandle handle, long offset, byte* destination, long length, string file) =>
        IO.ParallelFileRead.ReadExactly(handle, offset, destination, length, file);

    public void Dispose()
    {
        foreach (var (handle, _) in _open.Values) handle.Dispose();
        _open.Clear();
    }
}
