using PureHDF;

namespace FastInfer.Formats.Keras;

/// <summary>HDF5 reading helpers: every string encoding Keras writes, and bounded float tensor reads.</summary>
internal static class KerasHdf5
{
    public static bool HasAttribute(IH5Object obj, string name)
    {
        try { return obj.AttributeExists(name); }
        catch (Exception) { return false; }
    }

    /// <summary>A scalar string attribute (variable-length or fixed-length), or null when absent.</summary>
    public static string? ReadStringAttribute(IH5Object obj, string name)
    {
        if (!HasAttribute(obj, name)) return null;
        var attr = obj.Attribute(name);
        try
        {
            var values = ReadStrings(attr);
            return values.Length == 0 ? "" : values[0];
        }
        catch (ModelFormatException) { throw; }
        catch (Exception e)
        {
            throw new ModelFormatException($"attribute '{name}' could not be read as a string: {e.Message}", location: obj.Name, inner: e);
        }
    }

    /// <summary>
    /// A string array attribute: variable-length (ASCII or UTF-8) strings, fixed-length NULLPAD/NULLTERM/SPACEPAD
    /// strings, or an empty float64 array (Keras' encoding of an empty <c>weight_names</c>). Absent → empty.
    /// </summary>
    public static string[] ReadStringArrayAttribute(IH5Object obj, string name)
    {
        if (!HasAttribute(obj, name)) return [];
        try { return ReadStrings(obj.Attribute(name)); }
        catch (ModelFormatException) { throw; }
        catch (Exception e)
        {
            throw new ModelFormatException($"attribute '{name}' could not be read as strings: {e.Message}", location: obj.Name, inner: e);
        }
    }

    private static string[] ReadStrings(IH5Attribute attr)
    {
        ulong count = 1;
        foreach (ulong d in attr.Space.Dimensions) count *= d;
        var cls = attr.Type.Class;
        if (count == 0) return [];
        if (cls is H5DataTypeClass.FloatingPoint or H5DataTypeClass.FixedPoint)
            throw new ModelFormatException($"attribute '{attr.Name}' holds {count} numbers where strings were expected");
        if (attr.Space.Rank == 0 || attr.Space.Type == H5DataspaceType.Scalar)
            return [Clean(attr.Read<string>())];
        var arr = attr.Read<string[]>();
        var result = new string[arr.Length];
        for (int i = 0; i < arr.Length; i++) result[i] = Clean(arr[i]);
        return result;
    }

    private static string Clean(string? s) => (s ?? "").TrimEnd('\0', ' ');

    public static bool TryGetGroup(IH5Group parent, string path, out IH5Group group)
    {
        group = null!;
        try
        {
            if (!parent.LinkExists(path)) return false;
            if (parent.Get(path) is IH5Group g) { group = g; return true; }
        }
        catch (Exception) { }
        return false;
    }

    public static bool TryGetDataset(IH5Group parent, string path, out IH5Dataset dataset)
    {
        dataset = null!;
        try
        {
            if (!LinkExistsPath(parent, path)) return false;
            if (parent.Get(path) is IH5Dataset d) { dataset = d; return true; }
        }
        catch (Exception) { }
        return false;
    }

    private static bool LinkExistsPath(IH5Group parent, string path)
    {
        // LinkExists with a multi-level path requires every intermediate group to exist; walk it.
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        IH5Group g = parent;
        for (int i = 0; i < parts.Length; i++)
        {
            if (!g.LinkExists(parts[i])) return false;
            if (i == parts.Length - 1) return true;
            if (g.Get(parts[i]) is not IH5Group next) return false;
            g = next;
        }
        return false;
    }

    /// <summary>
    /// Describes a float dataset as a weight (shape and limits checked now); its values are read later, straight into
    /// their final buffer, by <see cref="WeightArray.CopyTo"/>.
    /// </summary>
    public static WeightArray ReadFloats(IH5Dataset ds, string name, ReaderLimits limits, string? file)
    {
        var dims = ds.Space.Dimensions;
        if (dims.Length > limits.MaxRank)
            throw new ModelFormatException($"weight '{name}' has rank {dims.Length}, over the limit {limits.MaxRank} (ReaderLimits.MaxRank)", file, name);
        long count = 1;
        var shape = new long[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] > (ulong)limits.MaxDim)
                throw new ModelFormatException($"weight '{name}' has dimension {dims[i]}, over the limit {limits.MaxDim} (ReaderLimits.MaxDim)", file, name);
            shape[i] = (long)dims[i];
            count = checked(count * shape[i]);
        }
        long bytes = checked(count * 4);
        if (bytes > limits.MaxTensorBytes || count > Array.MaxLength)
            throw new ModelFormatException($"weight '{name}' needs {bytes} bytes, over the tensor limit {limits.MaxTensorBytes} (ReaderLimits.MaxTensorBytes)", file, name);
        if (ds.Type.Class != H5DataTypeClass.FloatingPoint)
            throw new ModelFormatException($"weight '{name}' has element class {ds.Type.Class}; only floating point weights are supported", file, name);
        if (ds.Type.Size is not (2 or 4 or 8))
            throw new ModelFormatException($"weight '{name}' has a {ds.Type.Size}-byte float type, which is not supported", file, name);
        return new WeightArray(name, shape, new Hdf5WeightValues(ds, name, file));
    }
}
