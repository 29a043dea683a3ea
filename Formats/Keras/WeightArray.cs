using System.Buffers;
using PureHDF;

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
                    _ds.Read(destination);
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
