using FastInfer.Gpu.Kernels;
using FastInfer.Runtime.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace FastInfer.Gpu.Execution;

/// <summary>
/// The device side of one plan: a flat list of ops (uploads, kernel launches, downloads, CPU steps) over one
/// device arena and the session's uploaded weights, run in order on one stream. Built once per input shape.
/// </summary>
internal sealed class GpuDevicePlan : IDevicePlan
{
    private readonly GpuAccelerator _gpu;
    private readonly AcceleratorStream _stream;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _arena;
    private readonly List<MemoryBuffer1D<float, Stride1D.Dense>> _ownedConstants;
    private readonly DeviceOp[] _ops;
    private readonly DevicePlanSummary _summary;
    private readonly object _runLock = new();

    private GpuDevicePlan(GpuAccelerator gpu, AcceleratorStream stream, MemoryBuffer1D<float, Stride1D.Dense> arena,
        List<MemoryBuffer1D<float, Stride1D.Dense>> ownedConstants, DeviceOp[] ops, DevicePlanSummary summary)
    {
        _gpu = gpu; _stream = stream; _arena = arena; _ownedConstants = ownedConstants; _ops = ops; _summary = summary;
    }

    public void Execute(in HostFrame frame)
    {
        // One arena per plan: concurrent runs of the same shapes take turns (each still allocation-free).
        lock (_runLock)
        {
            lock (_gpu.LaunchLock)
            {
                var ops = _ops;
                for (int i = 0; i < ops.Length; i++) ops[i].Run(_stream, frame);
                _stream.Synchronize();
            }
        }
    }

    public DevicePlanSummary Describe() => _summary;

    public void Dispose()
    {
        _stream.Dispose();
        _arena.Dispose();
        foreach (var b in _ownedConstants) b.Dispose();
    }

    /// <summary>
    /// Splits the steps between device and CPU, decides where data must cross, places device values by
    /// lifetime, and builds the ops.
    /// </summary>
    public static GpuDevicePlan Build(GpuExecutionProvider provider, PlanDescription plan)
    {
        var gpu = provider.Gpu;
        var values = plan.Values;
        int stepCount = plan.Steps.Count;
        var lowered = new LoweredStep?[stepCount];
        for (int s = 0; s < stepCount; s++) lowered[s] = NodeLowering.Analyze(plan, plan.Steps[s], provider.Opset);

        int Root(int id) => values[id].Root;
        bool OnHostOnly(int root) => values[root].Type != Ir.DataType.Float;

        // Residency, walked in step order: where the current bytes of each root value are.
        var hostValid = new bool[values.Count];
        var deviceValid = new bool[values.Count];
        foreach (var v in values)
            if (v.Role is ValueRole.Input or ValueRole.Constant) hostValid[v.Id] = true;
        var constants = new Dictionary<int, ArrayView<float>>();
        var owned = new List<MemoryBuffer1D<float, Stride1D.Dense>>();

        // Per root: the device interval it occupies in the arena.
        var first = new Dictionary<int, int>();
        var last = new Dictionary<int, int>();
        void Touch(int root, int at)
        {
            if (!first.ContainsKey(root)) first[root] = at;
            last[root] = Math.Max(last.GetValueOrDefault(root, at), at);
        }

        var before = new List<(int Step, bool Upload, int Root)>();   // transfers placed before a step (or at stepCount: the end)
        for (int s = 0; s < stepCount; s++)
        {
            var step = plan.Steps[s];
            if (lowered[s] is { } low)
            {
                foreach (int id in low.Reads)
                {
                    int r = Root(id);
                    if (values[r].Role == ValueRole.Constant) { EnsureConstant(provider, values[r], constants, owned); continue; }
                    if (!deviceValid[r]) { before.Add((s, true, r)); deviceValid[r] = true; }
                    Touch(r, s);
                }
                foreach (int id in low.Writes)
                {
                    int r = Root(id);
                    deviceValid[r] = true; hostValid[r] = false;
                    Touch(r, s);
                }
            }
            else
            {
                foreach (int id in step.Inputs)
                {
                    if (id < 0) continue;
                    int r = Root(id);
                    if (hostValid[r]) continue;
                    before.Add((s, false, r)); hostValid[r] = true;
                    Touch(r, s);
                }
                foreach (int id in step.Outputs)
                {
                    if (values[id].Role == ValueRole.Alias) continue; // a view: its root's bytes are unchanged
                    hostValid[id] = true; deviceValid[id] = false;
                }
            }
        }
        // Everything the caller reads at the end must be on the host.
        var finals = plan.OutputIds.Select(Root).Concat(plan.OutputCopies.Select(c => Root(c.Source))).Distinct();
        foreach (int r in finals)
            if (!hostValid[r] && !OnHostOnly(r)) { before.Add((stepCount, false, r)); hostValid[r] = true; Touch(r, stepCount); }

        // Place device values and step scratch in one arena.
        var slots = new Dictionary<int, DeviceArenaPlanner.Slot>();
        foreach (var (root, f) in first) slots[root] = new DeviceArenaPlanner.Slot(values[root].Shape.ElementCount, f, last[root]);
        var scratch = new Dictionary<int, DeviceArenaPlanner.Slot>();
        for (int s = 0; s < stepCount; s++)
            if (lowered[s] is { WorkspaceFloats: > 0 } low) scratch[s] = new DeviceArenaPlanner.Slot(low.WorkspaceFloats, s, s);
        long arenaFloats = DeviceArenaPlanner.Place(slots.Values.Concat(scratch.Values).ToList());
        var arena = gpu.Accelerator.Allocate1D<float>(Math.Max(arenaFloats, 1));
        var stream = gpu.Accelerator.CreateStream();

        try
        {
            ArrayView<float> ViewOf(int id)
            {
                int r = Root(id);
                long count = values[id].Shape.ElementCount;
                if (constants.TryGetValue(r, out var c)) return c.SubView(0, count);
                return arena.View.SubView(slots[r].Offset, count);
            }

            var ops = new List<DeviceOp>();
            var partitions = new List<DevicePartition>();
            var partSteps = new List<int>(); var partNodes = new List<string>(); var partCopies = new List<string>();
            bool? side = null;
            int uploads = 0, downloads = 0, transfer = 0;
            void Close()
            {
                if (side is null) return;
                partitions.Add(new DevicePartition(side.Value, partSteps.ToArray(), partNodes.ToArray(), partCopies.ToArray()));
                partSteps.Clear(); partNodes.Clear(); partCopies.Clear();
            }
            void Transfers(int s)
            {
                bool anyDownload = false;
                for (; transfer < before.Count && before[transfer].Step == s; transfer++)
                {
                    var (_, upload, r) = before[transfer];
                    string name = values[r].Name.Length > 0 ? values[r].Name : $"#{r}";
                    if (upload) { ops.Add(new UploadOp(r, ViewOf(r))); uploads++; partCopies.Add(name + " →device"); }
                    else { ops.Add(new DownloadOp(r, ViewOf(r))); downloads++; anyDownload = true; partCopies.Add(name + " →host"); }
                }
                if (anyDownload) ops.Add(new SyncOp());
            }

            for (int s = 0; s < stepCount; s++)
            {
                bool onDevice = lowered[s] is not null;
                if (side != onDevice) { Close(); side = onDevice; }
                Transfers(s);
                var node = plan.Steps[s].Node;
                partSteps.Add(s);
                partNodes.Add($"{node.OpType} {node.DisplayName}");
                if (lowered[s] is { } low)
                {
                    var views = new PlanViews(gpu, ViewOf, scratch.TryGetValue(s, out var slot) ? arena.View.SubView(slot.Offset, slot.Floats) : gpu.Dummy.View);
                    ops.AddRange(low.Build(views));
                }
                else ops.Add(new CpuStepOp(s));
            }
            Close();
            side = true;
            Transfers(stepCount);
            if (partCopies.Count > 0) partitions.Add(new DevicePartition(false, Array.Empty<int>(), Array.Empty<string>(), partCopies.ToArray()));

            long weightBytes = constants.Values.Sum(v => v.LengthInBytes);
            var summary = new DevicePlanSummary(provider.Name, provider.DeviceName, partitions, arenaFloats * sizeof(float), weightBytes, uploads, downloads);
            return new GpuDevicePlan(gpu, stream, arena, owned, ops.ToArray(), summary);
        }
        catch
        {
            stream.Dispose(); arena.Dispose();
            foreach (var b in owned) b.Dispose();
            throw;
        }
    }

    /// <summary>A constant read on the device: the session's uploaded weight, or (for values folded in this plan) a buffer of the plan's own.</summary>
    private static void EnsureConstant(GpuExecutionProvider provider, ValueDescription value, Dictionary<int, ArrayView<float>> constants,
        List<MemoryBuffer1D<float, Stride1D.Dense>> owned)
    {
        if (constants.ContainsKey(value.Id)) return;
        if (provider.TryGetWeight(value.ConstantPointer, value.Shape.ElementCount, out var view)) { constants[value.Id] = view; return; }
        var buffer = provider.Upload(value.ConstantPointer, value.Shape.ElementCount);
        owned.Add(buffer);
        constants[value.Id] = buffer.View;
    }

    private sealed class PlanViews(GpuAccelerator gpu, Func<int, ArrayView<float>> of, ArrayView<float> workspace) : IPlanViews
    {
        public GpuKernelSet Kernels => gpu.Kernels;
        public ArrayView<float> Of(int valueId) => of(valueId);
        public ArrayView<float> Workspace => workspace;
        public ArrayView<float> None => gpu.Dummy.View;
    }
}
