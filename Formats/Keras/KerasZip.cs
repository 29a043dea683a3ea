using System.IO.Compression;
using System.Text;

namespace FastInfer.Formats.Keras;

/// <summary>The Keras 3 <c>.keras</c> zip: <c>config.json</c>, <c>metadata.json</c>, <c>model.weights.h5</c> (stored or deflated).</summary>
internal static class KerasZip
{
    public static FastInfer.Ir.ModelGraph Load(string path, ReaderLimits limits)
    {
        try { return LoadArchive(path, limits); }
        catch (InvalidDataException e)
        {
            // ZipArchive reads its central directory lazily (on the first GetEntry), so corruption surfaces after opening too.
            throw new ModelFormatException($"the zip container is malformed: {e.Message}", path, inner: e);
        }
    }

    private static FastInfer.Ir.ModelGraph LoadArchive(string path, ReaderLimits limits)
    {
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new ModelFormatException($"the zip container is malformed: {e.Message}", path, inner: e); }
        using (zip)
        {
            string config = ReadText(zip, "config.json", path, limits)
                ?? throw new ModelFormatException("the .keras zip has no config.json", path);
            string? metadata = ReadText(zip, "metadata.json", path, limits);
            string? version = null, dateSaved = null;
            if (metadata is not null)
            {
                using var md = KerasReader.ParseJson(metadata, path, "metadata.json");
                version = KerasJson.Str(md.RootElement, "keras_version");
                dateSaved = KerasJson.Str(md.RootElement, "date_saved");
            }
            using var cfg = KerasReader.ParseJson(config, path, "config.json");
            var entry = zip.GetEntry("model.weights.h5");
            if (entry is null)
            {
                if (zip.GetEntry("model.weights.npz") is not null)
                    throw new ModelFormatException("weights stored as model.weights.npz are not supported (only model.weights.h5)", path);
            }
            // The weights are read from the zip in place (or from a temporary inflated copy), never into one big array.
            var weights = entry is null ? null : ZipEntryStreams.OpenSeekable(path, entry, limits);
            if (weights is not null) Hdf5Check.Check(weights, path);
            using var h5 = weights is null ? null : KerasReader.OpenHdf5(weights, path);
            var graph = KerasReader.Build(cfg.RootElement, path, limits, version ?? "3", (model, file) =>
                h5 is null ? new EmptyWeightSource() : new Keras3WeightSource(h5, model.ModelLayers, limits, file));
            if (dateSaved is not null) graph.Metadata["date_saved"] = dateSaved;
            graph.Metadata["container"] = "keras-zip";
            return graph;
        }
    }

    private sealed class EmptyWeightSource : IKerasWeightSource
    {
        public IReadOnlyList<WeightArray> Read(KerasLayer layer) => [];
    }

    private static string? ReadText(ZipArchive zip, string name, string path, ReaderLimits limits)
    {
        var e = zip.GetEntry(name);
        return e is null ? null : Encoding.UTF8.GetString(ReadBytes(e, path, limits));
    }

    private static byte[] ReadBytes(ZipArchiveEntry e, string path, ReaderLimits limits)
    {
        if (e.Length > limits.MaxFileBytes || e.Length > Array.MaxLength)
            throw new ModelFormatException($"zip entry '{e.FullName}' is {e.Length} bytes, over the limit {limits.MaxFileBytes} (ReaderLimits.MaxFileBytes)", path, e.FullName);
        try
        {
            using var s = e.Open();
            var buffer = new byte[e.Length];
            int read = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read != buffer.Length || s.ReadByte() != -1)
                throw new ModelFormatException($"zip entry '{e.FullName}' does not match its declared size", path, e.FullName);
            return buffer;
        }
        catch (InvalidDataException ex) { throw new ModelFormatException($"zip entry '{e.FullName}' is corrupt: {ex.Message}", path, e.FullName, ex); }
    }
}
