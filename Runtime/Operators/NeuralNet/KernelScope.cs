using FastInfer.Kernels.Platform;

namespace FastInfer.Runtime.Operators.NeuralNet;

/// <summary>
/// Applies <see cref="SessionOptions.Isa"/> to the kernel operators: packing at plan time and each step at
/// run time happen under a thread-scoped <see cref="KernelIsa.Override"/> (no allocation per step).
/// </summary>
internal static class KernelScope
{
    public static IsaLevel? Validate(SessionOptions options)
    {
        if (options.Isa is { } isa && !KernelIsa.IsSupported(isa))
            throw new ArgumentException($"SessionOptions.Isa = {isa} is not supported by this CPU (best: {KernelIsa.Best}).", nameof(options));
        return options.Isa;
    }

    /// <summary>Enters the session's ISA tier if it has one; dispose the result to leave it.</summary>
    public static KernelIsa.Scope? Enter(IsaLevel? isa) => isa is { } level ? KernelIsa.Override(level) : null;

    /// <summary>The step itself, or the step run under the session's ISA tier.</summary>
    public static StepAction Wrap(IsaLevel? isa, StepAction step)
    {
        if (isa is not { } level) return step;
        return (in StepArgs a) =>
        {
            using (KernelIsa.Override(level)) step(a);
        };
    }
}
