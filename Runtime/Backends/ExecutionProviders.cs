namespace FastInfer.Runtime.Backends;

/// <summary>
/// The providers known to this process. A provider assembly registers its factory here (FastInfer.Gpu does
/// so from <c>UseGpu</c> and <c>GpuExecutionProvider.Register</c>); sessions asking for <see cref="Device.Gpu"/>
/// or <see cref="Device.Auto"/> without a factory in their options use the registered ones, in order.
/// </summary>
public static class ExecutionProviders
{
    private static readonly List<IExecutionProviderFactory> s_factories = new();

    /// <summary>Adds a factory (once: registering one with the same name again replaces it).</summary>
    public static void Register(IExecutionProviderFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (s_factories)
        {
            s_factories.RemoveAll(f => f.Name == factory.Name);
            s_factories.Add(factory);
        }
    }

    public static IReadOnlyList<IExecutionProviderFactory> Registered
    {
        get { lock (s_factories) return s_factories.ToArray(); }
    }

    /// <summary>
    /// The provider a session with these options uses: null for the CPU. <see cref="Device.Gpu"/> with no
    /// usable device throws <see cref="DeviceUnavailableException"/> saying what was looked for.
    /// </summary>
    internal static IExecutionProvider? Resolve(SessionOptions options)
    {
        if (options.Device == Device.Cpu) return null;
        var factories = options.ExecutionProvider is { } own ? new[] { own } : Registered.ToArray();
        if (factories.Length == 0)
        {
            if (options.Device == Device.Auto) return null;
            throw new DeviceUnavailableException(
                "Device.Gpu was requested but no GPU execution provider is registered: reference the FastInfer.Gpu " +
                "assembly and call options.UseGpu() (or GpuExecutionProvider.Register()).");
        }
        var searched = new List<string>();
        foreach (var factory in factories)
        {
            var provider = factory.TryCreate(options, out string lookedFor);
            if (provider is not null) return provider;
            searched.Add($"{factory.Name}: {lookedFor}");
        }
        if (options.Device == Device.Auto) return null;
        throw new DeviceUnavailableException($"Device.Gpu was requested but no device was found. Looked for: {string.Join("; ", searched)}.");
    }
}
