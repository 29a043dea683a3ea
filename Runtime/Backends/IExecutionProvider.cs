using FastInfer.Ir;

namespace FastInfer.Runtime.Backends;

/// <summary>
/// Makes execution providers for sessions. A provider lives in its own assembly (e.g. FastInfer.Gpu) so the
/// CPU build never loads accelerator code; it reaches the session through <see cref="SessionOptions.ExecutionProvider"/>
/// or <see cref="ExecutionProviders.Register"/>.
/// </summary>
public interface IExecutionProviderFactory
{
    /// <summary>Short name, e.g. "ilgpu-cuda".</summary>
    string Name { get; }

    /// <summary>
    /// Creates a provider for a session, or returns null when no suitable device exists; then
    /// <paramref name="lookedFor"/> says what was searched (shown in the error for <see cref="Device.Gpu"/>).
    /// </summary>
    IExecutionProvider? TryCreate(SessionOptions options, out string lookedFor);
}

/// <summary>
/// One accelerator serving one session. Created after the graph passes (BatchNorm folded, convolutions and
/// GEMMs fused), so <see cref="Prepare"/> sees the weights in their final form and uploads them once.
/// </summary>
public interface IExecutionProvider : IDisposable
{
    /// <summary>Provider name, e.g. "ilgpu-cuda".</summary>
    string Name { get; }

    /// <summary>The device it runs on, in words (e.g. "NVIDIA H200 (CUDA, 139 GiB)").</summary>
    string DeviceName { get; }

    /// <summary>Called once at session creation with the optimized graph: upload weights, compile kernels.</summary>
    void Prepare(ModelGraph graph);

    /// <summary>Whether the provider has a kernel for this step with these input and output types and shapes.</summary>
    bool Supports(PlanDescription plan, StepDescription step);

    /// <summary>
    /// Builds the device plan for one set of input shapes. Steps it does not support run on the CPU through
    /// <see cref="HostFrame.RunOnCpu"/>, with copies only where data crosses between the two.
    /// </summary>
    IDevicePlan CreatePlan(PlanDescription plan);
}

/// <summary>A provider's compiled plan for one set of input shapes.</summary>
public interface IDevicePlan : IDisposable
{
    /// <summary>
    /// Runs every step. Input values are readable and output values writable through <paramref name="frame"/>;
    /// on return, every graph output (and every source of <see cref="PlanDescription.OutputCopies"/>) must be in
    /// host memory. Must not allocate managed memory.
    /// </summary>
    void Execute(in HostFrame frame);

    /// <summary>How the steps were split between the device and the CPU.</summary>
    DevicePlanSummary Describe();
}
