namespace FastInfer.Runtime.Backends;

/// <summary>A device was asked for (<see cref="Device.Gpu"/>) but none could be used; the message says what was looked for.</summary>
public sealed class DeviceUnavailableException : InvalidOperationException
{
    public DeviceUnavailableException(string message) : base(message) { }
    public DeviceUnavailableException(string message, Exception inner) : base(message, inner) { }
}
