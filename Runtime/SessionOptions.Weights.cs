using FastInfer.Formats;

namespace FastInfer.Runtime;

public sealed partial class SessionOptions
{
    /// <summary>
    /// Where weights live: <see cref="Formats.WeightPlacement.Pinned"/> (copied once into aligned native memory, the
    /// default) or <see cref="Formats.WeightPlacement.Mapped"/> (used in place from a read-only memory map of a .fim file
    /// or of ONNX external data; near-zero load time, pages shared between processes). Stored in
    /// <see cref="ReaderLimits"/>, which every reader receives.
    /// </summary>
    public WeightPlacement WeightPlacement
    {
        get => ReaderLimits.WeightPlacement;
        set => ReaderLimits = ReaderLimits with { WeightPlacement = value };
    }

    /// <summary>Verify per-tensor checksums (.fim) at load; on by default, turn off only for trusted files.</summary>
    public bool VerifyWeightChecksums
    {
        get => ReaderLimits.VerifyTensorChecksums;
        set => ReaderLimits = ReaderLimits with { VerifyTensorChecksums = value };
    }

    /// <summary>
    /// Lock the model's weights in RAM (mlock) for the session's lifetime, so memory pressure can never page them out
    /// and stall a run on reading them back. Off by default; needs a locked-memory limit (<c>ulimit -l</c>) at least the
    /// weight size, else creating the session throws <see cref="InvalidOperationException"/> naming the limit.
    /// Locks the weights as loaded (pinned blocks or mapped file pages); per-kernel packed copies are not included.
    /// </summary>
    public bool LockWeights { get; set; }
}
