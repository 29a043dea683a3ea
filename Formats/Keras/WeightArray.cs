using System.Buffers;
using System.Runtime.InteropServices;
using PureHDF;
using PureHDF.Selections;

namespace FastInfer.Formats.Keras;

/// <summary>
/// One weight of a layer: its stored shape, and its float32 values read on demand. Large weights are read once,
/// straight into the graph's native buffer (<see cref="CopyTo"/>), so loading never holds a second copy of the model;
/// <see cref="Data"/> gives a managed copy for the small per-channel vectors that are folded at load time.
/// </summary>
internal sealed class WeightArray
{
    private readonly Hdf5WeightValues _values;
    private float[]? _data;

    public WeightArray(string name, long[] shape, Hdf5WeightValues values)
    {
        Name = name; Shape = shape; _values = values;
    }

    public string Name { get; }
    public long[] Shape { get; }
    public string ShapeText => "(" + string.Join(",", Shape) + ")";

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The same values viewed with another shape of the same element count (Keras 1 kernel layouts).</summary>
    public WeightArray WithShape(long[] shape) => new(Name, shape, _values) { _data = _data };

    /// <summary>A managed copy of the values (read once, then kept): for small weights only.</summary>
    public float[] Data
    {
        get
        {
            if (_data is null)
            {
                var data = new float[ElementCount];
                _values.ReadInto(data, ElementCount);
                _data = data;
            }
            return _data;
        }
    }

    /// <summary>Reads the values into <paramref name="destination"/> (exactly <see cref="ElementCount"/> long).</summary>
    public void CopyTo(Memory<float> destination)
    {
        if (destination.Length != ElementCount)
            throw new ArgumentException($"weight '{Name}' has {ElementCount} values, the destination {destination.Length}");
        if (_data is not null) _data.CopyTo(destination);
        else _values.ReadInto(destination, ElementCount);
    }
}

/// <summary>Where a weight's values live: an HDF5 float dataset (float16/32/64), converted to float32 when read.</summary>
internal sealed class Hdf5WeightValues
{
    private readonly IH5Dataset _ds;
    private readonly string _name;
    private readonly string? _file;

    public Hdf5WeightValues(IH5Dataset ds, string name, string? file)
    {
        _ds = ds; _name = name; _file = file;
    }

    public void ReadInto(Memory<float> destination, long count)
    {
        if (count == 0) return;
        try
        {
            switch (_ds.Type.Size)
            {
                case 4:
                    if (count <= SliceValues) _ds.Read(destination);
                    else if (!TryReadContiguous(destination)) ReadInSlices(destination);
                    break;
                case 8:
                    Convert<double>(destination, (src, dst) => { for (int i = 0; i < dst.Length; i++) dst[i] = (float)src[i]; });
                    break;
                default:
                    Convert<Half>(destination, (src, dst) => { for (int i = 0; i < dst.Length; i++) dst[i] = (float)src[i]; });
                    break;
            }
        }
        catch (Exception e) when (e is not ModelFormatException)
        {
            throw new ModelFormatException($"weight '{_name}' could not be read: {e.Message}", _file, _name, e);
        }
    }

    /// <summary>
    /// Float32 datasets past this many values are read a slice of whole rows at a time: PureHDF sizes one read in 32-bit
    /// bytes, so the seed CNN's 4 GB Dense kernel overflowed it read whole. A field so tests can exercise slicing on
    /// small files.
    /// </summary>
    internal static long SliceValues = 1 << 24;

    /// <summary>
    /// A large float32 dataset stored contiguously (h5py's layout for an unchunked dataset) read straight from its place
    /// in the file, a gigabyte per call. The place comes from the file check's walk (<see cref="Hdf5Check.ContiguousDatasets"/>),
    /// which does not know dataset names: it is used only when exactly one contiguous dataset of the file has this byte
    /// size, and kept only if the first and last rows, read through PureHDF, equal the bytes read there. Anything else
    /// (chunked, ambiguous, a .keras zip, a mismatch) falls back to <see cref="ReadInSlices"/>. The seed CNN's 4 GB
    /// Dense kernel took 17-37 s through slices, one PureHDF step per 128-value row.
    /// </summary>
    private bool TryReadContiguous(Memory<float> destination)
    {
        if (!ReadContiguousDirectly || _file is null || !BitConverter.IsLittleEndian || _ds.Layout.Class != H5DataLayoutClass.Contiguous) return false;
        long count = destination.Length, bytes = count * sizeof(float);
        IReadOnlyList<(ulong Address, ulong Bytes)> datasets;
        try { datasets = Hdf5Check.ContiguousDatasets(_file); }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException) { return false; }
        var same = datasets.Where(d => d.Bytes == (ulong)bytes).ToList();
        if (same.Count != 1) return false;
        // The check's walk has already placed [address, address + bytes) inside the file.
        using (var handle = File.OpenHandle(_file, FileMode.Open, FileAccess.Read, FileShare.Read))
        using (var pinned = destination.Pin())
            unsafe { IO.ParallelFileRead.ReadExactly(handle, (long)same[0].Address, (byte*)pinned.Pointer, bytes, _file); }
        ulong[] dims = _ds.Space.Dimensions;
        if (!RowMatches(destination.Span, dims, 0) || !RowMatches(destination.Span, dims, dims[0] - 1)) return false;
        Interlocked.Increment(ref s_directReads);
        return true;
    }

    /// <summary>Whether <see cref="TryReadContiguous"/> is tried; a switch so tests can exercise the slices too.</summary>
    internal static bool ReadContiguousDirectly = true;

    /// <summary>Datasets read straight from the file so far (for tests).</summary>
    internal static int DirectReads => Volatile.Read(ref s_directReads);
    private static int s_directReads;

    /// <summary>Whether row <paramref name="row"/> of the dataset, read through PureHDF, has exactly the bytes in <paramref name="values"/>.</summary>
    private bool RowMatches(ReadOnlySpan<float> values, ulong[] dims, ulong row)
    {
        ulong rowValues = 1;
        for (int i = 1; i < dims.Length; i++) rowValues *= dims[i];
        var starts = new ulong[dims.Length];
        starts[0] = row;
        var blocks = (ulong[])dims.Clone();
        blocks[0] = 1;
        var expected = new float[rowValues];
        _ds.Read(expected.AsMemory(), fileSelection: new HyperslabSelection(dims.Length, starts, blocks), memoryDims: [rowValues]);
        var actual = values.Slice(checked((int)(row * rowValues)), (int)rowValues);
        return MemoryMarshal.AsBytes(actual).SequenceEqual(MemoryMarshal.AsBytes(expected.AsSpan()));
    }

    /// <summary>
    /// Slices of whole rows as hyperslabs. PureHDF walks such a selection a row at a time (one read per row: 8 million
    /// for the seed CNN's Dense kernel); a single selection step spanning rows read wrong values (its walk splits steps at
    /// the end of the last dimension and moves on in that dimension only).
    /// </summary>
    private void ReadInSlices(Memory<float> destination)
    {
        ulong[] dims = _ds.Space.Dimensions;
        ulong rowValues = 1;
        for (int i = 1; i < dims.Length; i++) rowValues *= dims[i];
        ulong rowsPerSlice = Math.Max(1, (ulong)SliceValues / Math.Max(1, rowValues));
        int offset = 0;
        for (ulong r0 = 0; r0 < dims[0]; r0 += rowsPerSlice)
        {
            ulong rows = Math.Min(rowsPerSlice, dims[0] - r0);
            var starts = new ulong[dims.Length];
            starts[0] = r0;
            var blocks = (ulong[])dims.Clone();
            blocks[0] = rows;
            int n = checked((int)(rows * rowValues));
            _ds.Read(destination.Slice(offset, n), fileSelection: new HyperslabSelection(dims.Length, starts, blocks), memoryDims: [(ulong)n]);
            offset += n;
        }
    }

    private delegate void Converter<T>(ReadOnlySpan<T> source, Span<float> destination);

    private void Convert<T>(Memory<float> destination, Converter<T> convert) where T : unmanaged
    {
        var scratch = ArrayPool<T>.Shared.Rent(destination.Length);
        try
        {
            var m = scratch.AsMemory(0, destination.Length);
            _ds.Read(m);
            convert(m.Span, destination.Span);
        }
        finally { ArrayPool<T>.Shared.Return(scratch); }
    }
}
