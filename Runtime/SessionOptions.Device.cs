using FastInfer.Runtime.Backends;

namespace FastInfer.Runtime;

public sealed partial class SessionOptions
{
    /// <summary>
    /// Where the session runs: <see cref="Backends.Device.Cpu"/> (default), <see cref="Backends.Device.Gpu"/>
    /// (an execution provider must find a device, else session creation fails) or <see cref="Backends.Device.Auto"/>.
    /// </summary>
    public Device Device { get; set; } = Device.Cpu;

    /// <summary>
    /// The provider factory for <see cref="Backends.Device.Gpu"/>/<see cref="Backends.Device.Auto"/>; set by the
    /// provider assembly's extension (e.g. <c>options.UseGpu()</c>). When null, <see cref="ExecutionProviders.Registered"/> are tried.
    /// </summary>
    public IExecutionProviderFactory? ExecutionProvider { get; set; }
}
