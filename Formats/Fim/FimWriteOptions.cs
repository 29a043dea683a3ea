namespace FastInfer.Formats.Fim;

/// <summary>How <see cref="FimWriter"/> writes a file.</summary>
public sealed record FimWriteOptions
{
    /// <summary>Called as tensor data is written with (bytes written, total tensor bytes); for progress bars.</summary>
    public Action<long, long>? Progress { get; init; }
}
