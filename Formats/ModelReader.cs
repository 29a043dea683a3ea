using FastInfer.Formats.Onnx;
using FastInfer.Ir;

namespace FastInfer.Formats;

/// <summary>Loads a model of any supported format, chosen by the file's first bytes (not its extension).</summary>
public static class ModelReader
{
    private static ReadOnlySpan<byte> HdfMagic => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];
    private static ReadOnlySpan<byte> ZipMagic => [0x50, 0x4B, 0x03, 0x04];
    private static ReadOnlySpan<byte> FimMagic => "FIMODEL\0"u8;

    /// <summary>
    /// Reads Keras files (legacy HDF5 <c>.h5</c> and Keras 3 <c>.keras</c> zip). Set by the integration layer (the Keras
    /// reader lives in its own folder and may be absent); null means Keras files are refused.
    /// </summary>
    public static Func<string, ReaderLimits?, ModelGraph>? KerasLoader { get; set; } = Keras.KerasReader.Load;

    /// <summary>Reads the native <c>.fim</c> format; set by the integration layer, like <see cref="KerasLoader"/>.</summary>
    public static Func<string, ReaderLimits?, ModelGraph>? FimLoader { get; set; } = Fim.FimReader.Load;

    public static ModelGraph Load(string path, ReaderLimits? limits = null) => DetectFormat(path) switch
    {
        "keras" => (KerasLoader ?? throw new ModelFormatException("Keras support not available (ModelReader.KerasLoader is not set)", path))(path, limits),
        "fim" => (FimLoader ?? throw new ModelFormatException(".fim support not available (ModelReader.FimLoader is not set)", path))(path, limits),
        _ => OnnxReader.Load(path, limits),
    };

    /// <summary>
    /// The format <see cref="Load"/> would read the file as, from its first bytes only: "keras" (HDF5 or zip),
    /// "fim", or "onnx" (anything else: the ONNX reader decides whether it really is one).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is empty.</exception>
    public static string DetectFormat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file not found: {path}", path);
        Span<byte> head = stackalloc byte[8];
        int n;
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            n = RandomAccess.Read(handle, head, 0);
        }
        if (n == 0) throw new ModelFormatException("the file is empty", path);
        head = head[..n];
        if (head.StartsWith(HdfMagic) || head.StartsWith(ZipMagic)) return "keras";
        if (head.StartsWith(FimMagic)) return "fim";
        return "onnx";
    }
}
