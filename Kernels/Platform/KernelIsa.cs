using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastInfer.Kernels.Platform;

/// <summary>The instruction-set tiers that kernels are written for, from slowest to fastest.</summary>
public enum IsaLevel
{
    /// <summary>Plain scalar code: the reference tier, runs anywhere.</summary>
    Scalar,
    /// <summary>Portable 128-bit vectors (SSE on x64, NEON on ARM64).</summary>
    Vector128,
    /// <summary>256-bit AVX2 with FMA3.</summary>
    Avx2Fma,
    /// <summary>512-bit AVX-512 F.</summary>
    Avx512,
}

/// <summary>
/// The kernel tier, chosen once at start-up (best the hardware has, or <c>FASTINFER_ISA</c>), and
/// overridable in code so tests and benchmarks can run every tier on one machine. Kernels read
/// <see cref="Current"/> once per call, on the calling thread, and bake the choice into their plan or
/// packed operands, so worker threads never consult it.
/// </summary>
public static class KernelIsa
{
    /// <summary>Environment variable naming a tier: avx512, avx2, vector128 or scalar.</summary>
    public const string EnvironmentVariable = "FASTINFER_ISA";

    /// <summary>The best tier this hardware supports.</summary>
    public static IsaLevel Best { get; } = DetectBest();

    private static IsaLevel s_default = FromEnvironment();

    [ThreadStatic] private static int t_override; // 0 = none, else level + 1 (a default of 0 needs no initializer per thread)

    /// <summary>The tier in force for calls made from this thread.</summary>
    public static IsaLevel Current => t_override != 0 ? (IsaLevel)(t_override - 1) : s_default;

    /// <summary>The process-wide tier (what <see cref="Current"/> is when no thread override is active).</summary>
    public static IsaLevel Default
    {
        get => s_default;
        set => s_default = Validate(value);
    }

    public static bool IsSupported(IsaLevel level) => level <= Best;

    /// <summary>Every tier this hardware can run, slowest first (for test sweeps).</summary>
    public static IsaLevel[] Supported()
    {
        var list = new IsaLevel[(int)Best + 1];
        for (int i = 0; i < list.Length; i++) list[i] = (IsaLevel)i;
        return list;
    }

    /// <summary>
    /// Forces <paramref name="level"/> for calls made from the current thread until the returned scope is
    /// disposed (thread-scoped so that tests running in parallel do not switch each other's kernels).
    /// </summary>
    public static Scope Override(IsaLevel level)
    {
        Validate(level);
        int previous = t_override;
        t_override = (int)level + 1;
        return new Scope(previous);
    }

    /// <summary>Restores the previous override when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly int _previous;
        internal Scope(int previous) => _previous = previous;
        public void Dispose() => t_override = _previous;
    }

    private static IsaLevel Validate(IsaLevel level)
    {
        if (!IsSupported(level))
            throw new PlatformNotSupportedException($"ISA tier {level} is not supported by this CPU (best: {Best}).");
        return level;
    }

    private static IsaLevel DetectBest()
    {
        if (Avx512F.IsSupported) return IsaLevel.Avx512;
        if (Avx2.IsSupported && Fma.IsSupported) return IsaLevel.Avx2Fma;
        if (Vector128.IsHardwareAccelerated) return IsaLevel.Vector128;
        return IsaLevel.Scalar;
    }

    private static IsaLevel FromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        IsaLevel? wanted = value?.Trim().ToLowerInvariant() switch
        {
            "avx512" or "avx512f" => IsaLevel.Avx512,
            "avx2" or "avx2fma" => IsaLevel.Avx2Fma,
            "vector128" or "sse" or "neon" => IsaLevel.Vector128,
            "scalar" => IsaLevel.Scalar,
            _ => null,
        };
        // An unknown name or a tier the CPU lacks falls back to the best one rather than failing start-up.
        return wanted is { } w && w <= Best ? w : Best;
    }
}
