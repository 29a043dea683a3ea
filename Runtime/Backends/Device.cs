namespace FastInfer.Runtime.Backends;

/// <summary>Where a session runs its nodes.</summary>
public enum Device
{
    /// <summary>The managed CPU kernels only (the default; loads no GPU code).</summary>
    Cpu,
    /// <summary>An accelerator through a registered execution provider; fails when none is present.</summary>
    Gpu,
    /// <summary>An accelerator when a registered provider finds one, else the CPU.</summary>
    Auto,
}
