namespace FastInfer.Runtime.Backends;

/// <summary>A run of consecutive steps on one side: the device, or the CPU fallback.</summary>
/// <param name="OnDevice">True for steps the provider runs on its device.</param>
/// <param name="Steps">Step indexes, in order.</param>
/// <param name="Nodes">"OpType name" of each step.</param>
/// <param name="CopiesIn">Values copied onto this side before the partition starts.</param>
public sealed record DevicePartition(bool OnDevice, int[] Steps, string[] Nodes, string[] CopiesIn);

/// <summary>How a plan is split between the device and the CPU, and the device memory it uses.</summary>
public sealed record DevicePlanSummary(
    string Provider, string DeviceName, IReadOnlyList<DevicePartition> Partitions,
    long DeviceArenaBytes, long DeviceWeightBytes, int HostToDeviceCopies, int DeviceToHostCopies)
{
    public int DeviceSteps => Partitions.Where(p => p.OnDevice).Sum(p => p.Steps.Length);
    public int CpuSteps => Partitions.Where(p => !p.OnDevice).Sum(p => p.Steps.Length);

    /// <summary>A readable listing, one partition per block (what <c>fastinfer inspect --device gpu</c> prints).</summary>
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"provider {Provider} on {DeviceName}: {DeviceSteps} steps on the device, {CpuSteps} on the CPU, " +
                      $"device arena {DeviceArenaBytes} B, device weights {DeviceWeightBytes} B, copies in/out per run {HostToDeviceCopies}/{DeviceToHostCopies}");
        for (int p = 0; p < Partitions.Count; p++)
        {
            var part = Partitions[p];
            sb.AppendLine($"  partition {p} [{(part.OnDevice ? "device" : "cpu")}] {part.Steps.Length} steps" +
                          (part.CopiesIn.Length > 0 ? $", copies in: {string.Join(", ", part.CopiesIn)}" : ""));
            foreach (var n in part.Nodes) sb.AppendLine("    " + n);
        }
        return sb.ToString();
    }
}
