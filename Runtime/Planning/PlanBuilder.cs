using FastInfer.Formats;
using FastInfer.Ir;
using FastInfer.Kernels.Memory;
using FastInfer.Kernels.Threading;
using FastInfer.Runtime.Operators;

namespace FastInfer.Runtime.Planning;

/// <summary>
/// Builds an <see cref="ExecutionPlan"/> for concrete input shapes: infers every value's type and shape by
/// planning each operator in order, computes at plan time every node whose inputs are all known (shape
/// subgraphs, constant expressions), and packs the remaining intermediates into one arena by lifetime.
/// </summary>
internal static unsafe class PlanBuilder
{
    public sealed class ConstantBlock : IDisposable
    {
        public readonly AlignedBuffer Buffer;
        public ConstantBlock(long bytes) { Buffer = new AlignedBuffer(bytes); }
        public void Dispose() => Buffer.Dispose();
    }

    /// <param name="inputShapes">One per graph input, in order.</param>
    /// <param name="inputValues">For value-keyed inputs, the bytes fed (they become plan constants); null elsewhere.</param>
    public static ExecutionPlan Build(ModelGraph graph, IReadOnlyList<Operator> operators, TensorShape[] inputShapes, byte[]?[] inputValues)
    {
        var values = new List<PlanValue>();
        var byName = new Dictionary<string, PlanValue>(StringComparer.Ordinal);
        var owned = new List<IDisposable>();
        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);

        PlanValue NewValue(string name)
        {
            var v = new PlanValue { Id = values.Count, Name = name };
            values.Add(v);
            if (name.Length > 0) byName[name] = v;
            return v;
        }

        foreach (var init in graph.Initializers.Values)
        {
            var v = NewValue(init.Name);
            v.Type = init.ElementType;
            v.Shape = TensorShape.FromLongs(init.Dims);
            v.Kind = ValueKind.Constant;
            v.ConstantPointer = init.Pointer;
            v.IsKnown = true;
        }

        var inputIds = new int[graph.Inputs.Count];
        for (int i = 0; i < graph.Inputs.Count; i++)
        {
            var info = graph.Inputs[i];
            var v = NewValue(info.Name);
            v.Type = info.ElementType;
            v.Shape = inputShapes[i];
            v.IsKnown = true;
            if (inputValues[i] is { } bytes)
            {
                // The plan is keyed by these values, so they are constants within it.
                var block = new ConstantBlock(bytes.Length);
                owned.Add(block);
                bytes.CopyTo(new Span<byte>(block.Buffer.Pointer, bytes.Length));
                v.Kind = ValueKind.Constant;
                v.ConstantPointer = (nint)block.Buffer.Pointer;
            }
            else v.Kind = ValueKind.Input;
            inputIds[i] = v.Id;
        }

        var steps = new List<PlannedStep>();
        int folded = 0;
        foreach (var op in operators)
        {
            var node = op.Node;
            var ins = new PlanValue?[node.Inputs.Count];
            for (int i = 0; i < ins.Length; i++)
            {
                string name = node.Inputs[i];
                if (name.Length == 0) continue;
                if (!byName.TryGetValue(name, out var v) || !v.IsKnown)
                    throw new InvalidModelException($"Node '{node.DisplayName}' ({node.OpType}) reads '{name}', which no input, initializer or earlier node provides.");
                ins[i] = v;
            }
            var outs = new PlanValue[node.Outputs.Count];
            for (int o = 0; o < outs.Length; o++)
            {
                string name = node.Outputs[o];
                if (name.Length > 0 && byName.TryGetValue(name, out var existing) && existing.IsKnown)
                    throw new InvalidModelException($"Value '{name}' is produced twice (again by node '{node.DisplayName}').");
                outs[o] = NewValue(name);
            }

            var ctx = new PlanContext(node, ins, outs, graph.Opset, graphOutputs);
            StepAction action;
            try { action = op.Plan(ctx); }
            catch (InvalidModelException) { throw; }
            catch (Exception e) when (e is ArgumentException or OverflowException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw new InvalidModelException($"Node '{node.DisplayName}' ({node.OpType}) cannot be planned: {e.Message}", e);
            }
            foreach (var (o, idx) in outs.Select((o, i) => (o, i)))
                if (!o.IsKnown && o.Name.Length > 0)
                    throw new InvalidModelException($"Node '{node.DisplayName}' ({node.OpType}) did not declare output {idx} ('{o.Name}').");

            var inIds = ins.Select(v => v?.Id ?? -1).ToArray();
            var outIds = outs.Select(v => v.Id).ToArray();
            bool foldable = !ctx.NeverFold && (ctx.DependsOnlyOnShapes || ins.All(v => v is null || v.Kind == ValueKind.Constant));
            if (foldable)
            {
                FoldNow(values, ins, outs, inIds, outIds, action, ctx.WorkspaceBytes, owned);
                folded++;
                continue;
            }
            steps.Add(new PlannedStep { Node = node, Action = action, Inputs = inIds, Outputs = outIds, WorkspaceBytes = ctx.WorkspaceBytes });
        }

        // Graph outputs: written in place by their producing step when possible, else copied at the end.
        var outputIds = new int[graph.Outputs.Count];
        var copies = new List<(int, int)>();
        var claimed = new HashSet<int>();
        for (int i = 0; i < graph.Outputs.Count; i++)
        {
            string name = graph.Outputs[i].Name;
            if (!byName.TryGetValue(name, out var v) || !v.IsKnown)
                throw new InvalidModelException($"Graph output '{name}' is not produced by any node, input or initializer.");
            if (v.Kind == ValueKind.Intermediate && claimed.Add(v.Id))
            {
                v.Kind = ValueKind.Output;
                outputIds[i] = v.Id;
                continue;
            }
            var slot = NewValue("");
            slot.Type = v.Type; slot.Shape = v.Shape; slot.Kind = ValueKind.Output; slot.IsKnown = true;
            outputIds[i] = slot.Id;
            copies.Add((v.Id, i));
        }

        // Lifetimes, counting a view's readers as readers of the memory it views.
        int Root(int id) => values[id].Kind == ValueKind.Alias ? values[id].AliasOf : id;
        for (int s = 0; s < steps.Count; s++)
        {
            foreach (int id in steps[s].Inputs) if (id >= 0) { var r = values[Root(id)]; r.LastUse = Math.Max(r.LastUse, s); }
            foreach (int id in steps[s].Outputs) { var v = values[id]; if (v.FirstUse < 0) v.FirstUse = s; v.LastUse = Math.Max(v.LastUse, s); }
        }
        foreach (var (source, _) in copies) { var r = values[Root(source)]; r.LastUse = steps.Count; }

        var requests = new List<(MemoryPlanner.Request Req, PlanValue? Value, PlannedStep? Step)>();
        foreach (var v in values)
            if (v.Kind == ValueKind.Intermediate && v.FirstUse >= 0)
                requests.Add((new MemoryPlanner.Request { Bytes = v.ByteLength, First = v.FirstUse, Last = v.LastUse }, v, null));
        for (int s = 0; s < steps.Count; s++)
            if (steps[s].WorkspaceBytes > 0)
                requests.Add((new MemoryPlanner.Request { Bytes = steps[s].WorkspaceBytes, First = s, Last = s }, null, steps[s]));
        long arena = MemoryPlanner.Place(requests.Select(r => r.Req).ToList());
        foreach (var (req, v, step) in requests)
        {
            if (v is not null) v.ArenaOffset = req.Offset;
            if (step is not null) step.WorkspaceOffset = req.Offset;
        }

        var aliases = values.Where(v => v.Kind == ValueKind.Alias).Select(v => (v.Id, v.AliasOf)).ToArray();
        return new ExecutionPlan
        {
            Values = values.ToArray(),
            Steps = steps.ToArray(),
            InputIds = inputIds,
            OutputIds = outputIds,
            InputShapes = inputShapes,
            InputValueKeys = inputValues,
            OutputCopies = copies.ToArray(),
            Aliases = aliases,
            ArenaBytes = arena,
            OwnedConstants = owned,
            FoldedNodes = folded,
        };
    }

    /// <summary>Runs a node whose inputs are all known, now, and turns its outputs into constants.</summary>
    private static void FoldNow(List<PlanValue> values, PlanValue?[] ins, PlanValue[] outs, int[] inIds, int[] outIds,
        StepAction action, long workspaceBytes, List<IDisposable> owned)
    {
        var pointers = new nint[values.Count];
        foreach (var v in ins) if (v is not null) pointers[v.Id] = v.ConstantPointer;
        foreach (var o in outs)
        {
            if (o.Kind == ValueKind.Alias)
            {
                var root = values[o.AliasOf];
                o.Kind = ValueKind.Constant;
                o.ConstantPointer = root.ConstantPointer;
                pointers[o.Id] = o.ConstantPointer;
                continue;
            }
            var block = new ConstantBlock(Math.Max(o.ByteLength, 1));
            owned.Add(block);
            o.Kind = ValueKind.Constant;
            o.ConstantPointer = (nint)block.Buffer.Pointer;
            pointers[o.Id] = o.ConstantPointer;
        }
        using var workspace = new AlignedBuffer(Math.Max(workspaceBytes, 64));
        var args = new StepArgs(pointers, inIds, outIds, (nint)workspace.Pointer, WorkerPool.Serial);
        action(in args);
    }
}
