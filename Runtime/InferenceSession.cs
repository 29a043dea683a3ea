using System.Runtime.InteropServices;
using FastInfer.Formats;
using FastInfer.Ir;
using FastInfer.Kernels.Threading;
using FastInfer.Runtime.Operators;
using FastInfer.Runtime.Optimization;
using FastInfer.Runtime.Planning;

namespace FastInfer.Runtime;

/// <summary>
/// A loaded, optimized model ready to run. Operators (and their packed weights) are created once; a plan is
/// built per distinct set of input shapes and cached. <see cref="Run(ReadOnlySpan{NamedTensor}, ReadOnlySpan{NamedTensor})"/>
/// allocates nothing once a shape has been planned, and may be called from several threads at once.
/// </summary>
public sealed partial class InferenceSession : IDisposable
{
    private readonly ModelGraph _graph;
    private readonly SessionOptions _options;
    private readonly Operator[] _operators;
    private readonly WorkerPool _pool;
    private readonly PlanCache _plans;
    /// <summary>The accelerator's execution provider (Runtime/Backends), or null when running on the CPU.</summary>
    private readonly Backends.IExecutionProvider? _provider;
    private readonly bool[] _inputIsValueKeyed;
    private readonly Dictionary<string, int> _inputIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _outputIndex = new(StringComparer.Ordinal);
    private int _activeRuns;
    private int _disposed; // 1 once Dispose has begun; set with a full fence (see EnterRun)

    private readonly Prepacking.SessionPackedOperands _packedOperands;

    private InferenceSession(ModelGraph graph, SessionOptions options, Action<string, nint, long>? recordPacked = null)
    {
        _graph = graph;
        _options = options;
        if (options.OptimizeGraph) Statistics = GraphOptimizer.Optimize(graph, cpuOnly: options.Device == Backends.Device.Cpu);
        else GraphOptimizer.SortTopologically(graph);

        var unsupported = new List<string>();
        var entries = new OperatorEntry[graph.Nodes.Count];
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            var entry = OperatorRegistry.Find(node);
            long opset = node.Domain is "" or "ai.onnx" ? graph.Opset : 1;
            if (entry is null || opset < entry.MinOpset || opset > entry.MaxOpset)
                unsupported.Add($"{(node.Domain is "" or "ai.onnx" ? "" : node.Domain + ".")}{node.OpType} ({node.DisplayName})");
            else entries[i] = entry;
        }
        if (unsupported.Count > 0) throw new UnsupportedOperatorException(unsupported);

        // Validated here so a bad ISA fails before any operator exists; the fingerprint names the layouts it packs for.
        var isa = Operators.NeuralNet.KernelScope.Validate(options) ?? Kernels.Platform.KernelIsa.Current;
        _packedOperands = new Prepacking.SessionPackedOperands(graph, Kernels.Gemm.PackedLayout.Fingerprint(isa), recordPacked);
        var context = new OperatorContext { Graph = graph, Options = options, PackedOperands = _packedOperands };
        _operators = new Operator[entries.Length];
        for (int i = 0; i < entries.Length; i++) _operators[i] = entries[i].Create(graph.Nodes[i], context);

        _inputIsValueKeyed = FindValueKeyedInputs(graph, entries);
        for (int i = 0; i < graph.Inputs.Count; i++) _inputIndex[graph.Inputs[i].Name] = i;
        for (int i = 0; i < graph.Outputs.Count; i++) _outputIndex[graph.Outputs[i].Name] = i;
        _pool = new WorkerPool(options.EffectiveThreads);
        _plans = new PlanCache(Math.Max(1, options.PlanCacheSize));
        _provider = Backends.ExecutionProviders.Resolve(options);
        try
        {
            _provider?.Prepare(graph);
            if (options.LockWeights) LockedWeightBytes = Memory.WeightLock.Lock(graph);
        }
        catch { _provider?.Dispose(); _pool.Dispose(); foreach (var op in _operators) op.Dispose(); throw; }
    }

    /// <summary>Bytes of weights locked in RAM (<see cref="SessionOptions.LockWeights"/>); 0 when not asked for.</summary>
    public long LockedWeightBytes { get; }

    /// <summary>Reads a model (ONNX, Keras .h5/.keras, FastInfer .fim — chosen by content) and prepares it.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is malformed.</exception>
    /// <exception cref="UnsupportedOperatorException">The model uses operators FastInfer does not implement.</exception>
    public static InferenceSession Load(string path, SessionOptions? options = null)
    {
        options ??= new SessionOptions();
        var graph = ModelReader.Load(path, options.ReaderLimits);
        return Create(graph, options);
    }

    /// <summary>Prepares a graph; the session takes ownership of it and disposes it.</summary>
    public static InferenceSession Create(ModelGraph graph, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        try { return new InferenceSession(graph, options ?? new SessionOptions()); }
        catch { graph.Dispose(); throw; }
    }

    /// <summary>A session that hands every operand it packs to <paramref name="recordPacked"/> (key, data, bytes).</summary>
    internal static InferenceSession CreateRecording(ModelGraph graph, SessionOptions options, Action<string, nint, long> recordPacked)
    {
        try { return new InferenceSession(graph, options, recordPacked); }
        catch { graph.Dispose(); throw; }
    }

    /// <summary>
    /// Packed weights so far (they are packed as shapes are first planned): how many came from a pre-packed <c>.fim</c>
    /// and how many were packed from the plain weights.
    /// </summary>
    public Prepacking.PackedOperandCounts PackedOperands => _packedOperands.Counts;

    /// <summary>The packed-weight layout this session's kernels read (<see cref="Kernels.Gemm.PackedLayout"/>).</summary>
    public string PackedLayoutFingerprint => _packedOperands.Fingerprint;

    /// <summary>Plans the default input shapes (packing every constant operand they reach) without running.</summary>
    internal void PlanDefaultShapes() => WithPlanFor(null, _ => 0);

    public IReadOnlyList<ValueInfo> Inputs => _graph.Inputs;
    public IReadOnlyList<ValueInfo> Outputs => _graph.Outputs;
    public SessionOptions Options => _options;
    /// <summary>The optimized graph the session runs (read-only use: inspect, export).</summary>
    public ModelGraph Graph => _graph;
    /// <summary>What the graph passes changed.</summary>
    public OptimizationStatistics Statistics { get; } = new();

    /// <summary>
    /// Runs the model over caller-provided tensors: every graph input must be given once, and every output
    /// named in <paramref name="outputs"/> is written into its tensor (shape and type must match exactly).
    /// Allocates nothing once a plan for these input shapes exists.
    /// </summary>
    public void Run(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<NamedTensor> outputs)
    {
        EnterRun();
        try
        {
            int inputCount = _graph.Inputs.Count;
            Span<int> order = inputCount <= 64 ? stackalloc int[inputCount] : new int[inputCount];
            MatchInputs(inputs, order);
            if (_options.RejectNonFiniteInputs) CheckFinite(inputs);
            var plan = GetPlan(inputs, order);
            try
            {
                var frame = plan.RentFrame();
                try
                {
                    BindAndExecute(plan, frame, inputs, order, outputs);
                }
                finally { plan.ReturnFrame(frame); }
            }
            finally { _plans.Release(plan); }
        }
        finally { ExitRun(); }
    }

    /// <summary>Runs the model and returns every graph output as a new tensor, in graph order.</summary>
    public NamedTensor[] Run(ReadOnlySpan<NamedTensor> inputs)
    {
        var shapes = GetOutputShapes(inputs, out var types);
        var results = new NamedTensor[_graph.Outputs.Count];
        for (int i = 0; i < results.Length; i++)
            results[i] = new NamedTensor(_graph.Outputs[i].Name, Tensor.Allocate(types[i], shapes[i].ToArray()));
        try { Run(inputs, results); }
        catch { foreach (var r in results) r.Tensor.Dispose(); throw; }
        return results;
    }

    /// <summary>Convenience: runs with the given tensors and returns the outputs.</summary>
    public NamedTensor[] Run(params NamedTensor[] inputs) => Run(inputs.AsSpan());

    /// <summary>The shapes and types the outputs will have for these inputs (plans them if needed).</summary>
    public TensorShape[] GetOutputShapes(ReadOnlySpan<NamedTensor> inputs, out DataType[] types)
    {
        EnterRun();
        try
        {
            var order = new int[_graph.Inputs.Count];
            MatchInputs(inputs, order);
            var plan = GetPlan(inputs, order);
            try
            {
                types = plan.OutputIds.Select(id => plan.Values[id].Type).ToArray();
                return plan.OutputIds.Select(id => plan.Values[id].Shape).ToArray();
            }
            finally { _plans.Release(plan); }
        }
        finally { ExitRun(); }
    }

    /// <summary>
    /// Plans for the given input shapes (symbolic dimensions bound by <see cref="SessionOptions.DimensionBindings"/>,
    /// else 1) without running, and describes the plan: arena bytes, steps, folded nodes.
    /// </summary>
    public PlanSummary DescribePlan(IReadOnlyDictionary<string, int[]>? inputShapes = null) =>
        WithPlanFor(inputShapes, plan => new PlanSummary(plan.ArenaBytes, plan.Steps.Length, plan.FoldedNodes,
            plan.Steps.Select(s => s.Node.OpType).ToArray(),
            plan.OutputIds.Select(id => plan.Values[id].Shape).ToArray()));

    /// <summary>
    /// Plans for the given input shapes (declared shapes with symbolic dimensions bound, by default) without
    /// running, and hands the plan to <paramref name="describe"/> while it is held.
    /// </summary>
    private T WithPlanFor<T>(IReadOnlyDictionary<string, int[]>? inputShapes, Func<ExecutionPlan, T> describe)
    {
        var tensors = new List<NamedTensor>();
        try
        {
            foreach (var info in _graph.Inputs)
            {
                if (info.ElementType == DataType.Undefined)
                    throw new InvalidModelException($"Input '{info.Name}' declares no element type, so it cannot be planned before Run; run the model with a tensor instead.");
                int[] dims = inputShapes?.GetValueOrDefault(info.Name) ?? DefaultShape(info);
                tensors.Add(new NamedTensor(info.Name, Tensor.Allocate(info.ElementType, dims)));
            }
            EnterRun();
            try
            {
                var span = CollectionsMarshal.AsSpan(tensors);
                var order = new int[_graph.Inputs.Count];
                MatchInputs(span, order);
                var plan = GetPlan(span, order);
                try { return describe(plan); }
                finally { _plans.Release(plan); }
            }
            finally { ExitRun(); }
        }
        finally { foreach (var t in tensors) t.Tensor.Dispose(); }
    }

    /// <summary>A concrete shape for an input: fixed dims as declared, symbolic ones from the bindings or 1.</summary>
    /// <exception cref="InvalidModelException">A declared dimension does not fit in an int.</exception>
    public int[] DefaultShape(ValueInfo input) =>
        input.Shape?.Select(d => d.IsFixed ? FixedDim(input, d.Value) : _options.DimensionBindings.GetValueOrDefault(d.Symbol ?? "", 1)).ToArray()
        ?? Array.Empty<int>();

    private static int FixedDim(ValueInfo input, long value) =>
        value is >= 0 and <= int.MaxValue ? (int)value
        : throw new InvalidModelException($"Input '{input.Name}' declares dimension {value}, which a tensor cannot have (0 to {int.MaxValue}).");

    // ---- input matching and validation -------------------------------------------------------------

    private void MatchInputs(ReadOnlySpan<NamedTensor> inputs, Span<int> order)
    {
        order.Fill(-1);
        for (int k = 0; k < inputs.Length; k++)
        {
            var given = inputs[k];
            if (given.Name is null || !_inputIndex.TryGetValue(given.Name, out int index))
                throw new ArgumentException($"The model has no input named '{given.Name}'. Its inputs are: {InputList()}.", nameof(inputs));
            if (order[index] >= 0)
                throw new ArgumentException($"Input '{given.Name}' is given twice.", nameof(inputs));
            if (given.Tensor is null)
                throw new ArgumentNullException(nameof(inputs), $"Input '{given.Name}' has no tensor.");
            order[index] = k;
            CheckAgainstDeclaration(_graph.Inputs[index], given.Tensor);
        }
        for (int i = 0; i < order.Length; i++)
            if (order[i] < 0)
                throw new ArgumentException($"Input '{_graph.Inputs[i].Name}' ({Describe(_graph.Inputs[i])}) is missing.", nameof(inputs));
    }

    private static void CheckAgainstDeclaration(ValueInfo info, Tensor tensor)
    {
        if (tensor.ElementType != info.ElementType && info.ElementType != DataType.Undefined)
            throw new ArgumentException(
                $"Input '{info.Name}' must be {info.ElementType.ToName()} but a {tensor.ElementType.ToName()} tensor was given.", "inputs");
        if (info.Shape is not { } dims) return;
        var shape = tensor.Shape;
        bool ok = dims.Count == shape.Rank;
        for (int d = 0; ok && d < dims.Count; d++)
            ok = !dims[d].IsFixed || dims[d].Value == shape[d];
        if (!ok)
            throw new ArgumentException(
                $"Input '{info.Name}' expects shape {Describe(info)} but was given {tensor.Shape}.", "inputs");
    }

    /// <summary>Opt-in (<see cref="SessionOptions.RejectNonFiniteInputs"/>): the first NaN or ±Inf in a float input is an error.</summary>
    private static void CheckFinite(ReadOnlySpan<NamedTensor> inputs)
    {
        foreach (var input in inputs)
        {
            var t = input.Tensor;
            long bad = t.ElementType switch
            {
                DataType.Float => FirstNonFinite(t.AsSpan<float>()),
                DataType.Double => FirstNonFinite(t.AsSpan<double>()),
                DataType.Float16 => FirstNonFinite(t.AsSpan<Half>()),
                _ => -1,
            };
            if (bad >= 0)
                throw new ArgumentException(
                    $"Input '{input.Name}' holds a non-finite value at element {bad}; SessionOptions.RejectNonFiniteInputs is set.", "inputs");
        }
    }

    private static long FirstNonFinite<T>(ReadOnlySpan<T> values) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
            if (!T.IsFinite(values[i])) return i;
        return -1;
    }

    private static string Describe(ValueInfo info) =>
        $"{info.ElementType.ToName()}[{(info.Shape is null ? "?" : string.Join(",", info.Shape.Select(d => d.ToString())))}]";

    private string InputList() => string.Join(", ", _graph.Inputs.Select(i => $"'{i.Name}' {Describe(i)}"));

    // ---- plans ----------------------------------------------------------------------------------------

    private ExecutionPlan GetPlan(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<int> order)
    {
        var plan = _plans.Find(inputs, order, _inputIsValueKeyed);
        if (plan is not null) return plan;

        var shapes = new TensorShape[order.Length];
        var keys = new byte[]?[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            var t = inputs[order[i]].Tensor;
            shapes[i] = t.Shape;
            if (_inputIsValueKeyed[i]) keys[i] = TensorBytes(t).ToArray();
        }
        var built = PlanBuilder.Build(_graph, _operators, shapes, keys);
        try { AttachDevicePlan(built); }
        catch { built.Dispose(); throw; }
        built.Prewarm(Math.Max(1, _options.ExpectedConcurrentRuns));
        return _plans.Add(built);
    }

    private static unsafe ReadOnlySpan<byte> TensorBytes(Tensor t) => new((void*)t.Pointer, checked((int)t.ByteLength));

    private unsafe void BindAndExecute(ExecutionPlan plan, ExecutionFrame frame, ReadOnlySpan<NamedTensor> inputs,
        ReadOnlySpan<int> order, ReadOnlySpan<NamedTensor> outputs)
    {
        nint[] ptr = frame.Pointers;
        for (int i = 0; i < order.Length; i++)
        {
            var v = plan.Values[plan.InputIds[i]];
            if (v.Kind == ValueKind.Input) ptr[v.Id] = inputs[order[i]].Tensor.Pointer;
        }
        for (int o = 0; o < plan.OutputIds.Length; o++) ptr[plan.OutputIds[o]] = 0;
        for (int k = 0; k < outputs.Length; k++)
        {
            var given = outputs[k];
            if (given.Name is null || !_outputIndex.TryGetValue(given.Name, out int index))
                throw new ArgumentException($"The model has no output named '{given.Name}'. Its outputs are: {string.Join(", ", _graph.Outputs.Select(x => "'" + x.Name + "'"))}.", nameof(outputs));
            var v = plan.Values[plan.OutputIds[index]];
            var t = given.Tensor ?? throw new ArgumentNullException(nameof(outputs), $"Output '{given.Name}' has no tensor.");
            if (t.ElementType != v.Type)
                throw new ArgumentException($"Output '{given.Name}' is {v.Type.ToName()} but a {t.ElementType.ToName()} tensor was given.", nameof(outputs));
            if (!t.Shape.Equals(v.Shape))
                throw new ArgumentException($"Output '{given.Name}' has shape {v.Shape} for these inputs but the tensor given is {t.Shape}.", nameof(outputs));
            if (ptr[v.Id] != 0)
                throw new ArgumentException($"Output '{given.Name}' is given twice.", nameof(outputs));
            CheckNoOverlap(given.Name, t, inputs);
            ptr[v.Id] = t.Pointer;
        }
        // Outputs the caller did not ask for still need somewhere to go: the frame's scratch slots.
        for (int o = 0; o < plan.OutputIds.Length; o++)
        {
            int id = plan.OutputIds[o];
            if (ptr[id] == 0) ptr[id] = frame.Scratch(o);
        }
        if (plan.Device is null) plan.Execute(frame, _pool);
        else ExecuteOnDevice(plan, frame, _pool);
    }

    private static void CheckNoOverlap(string name, Tensor output, ReadOnlySpan<NamedTensor> inputs)
    {
        nint start = output.Pointer, end = start + (nint)output.ByteLength;
        foreach (var input in inputs)
        {
            nint s = input.Tensor.Pointer, e = s + (nint)input.Tensor.ByteLength;
            if (output.ByteLength > 0 && input.Tensor.ByteLength > 0 && s < end && start < e)
                throw new ArgumentException($"Output '{name}' shares memory with input '{input.Name}'; give it a separate tensor.", "outputs");
        }
    }

    /// <summary>Inputs whose values are read while planning (they reach a shape input of some node).</summary>
    private static bool[] FindValueKeyedInputs(ModelGraph graph, OperatorEntry[] entries)
    {
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes) foreach (var o in n.Outputs) if (o.Length > 0) producer[o] = n;
        var needed = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (int k in entries[i].ShapeInputs)
                if (k < graph.Nodes[i].Inputs.Count && graph.Nodes[i].Inputs[k].Length > 0) stack.Push(graph.Nodes[i].Inputs[k]);
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (!needed.Add(name)) continue;
            if (producer.TryGetValue(name, out var node) && node.OpType is not ("Shape" or "Size"))
                foreach (var input in node.Inputs) if (input.Length > 0) stack.Push(input);
        }
        return graph.Inputs.Select(i => needed.Contains(i.Name)).ToArray();
    }

    // ---- lifetime -------------------------------------------------------------------------------------

    // Run and Dispose meet through two counters, each written with a full fence and then the other read: a run
    // increments _activeRuns then reads _disposed; Dispose sets _disposed then reads _activeRuns. Whatever the
    // interleaving, either the run sees _disposed (and refuses) or Dispose sees the run (and waits for it).
    private void EnterRun()
    {
        Interlocked.Increment(ref _activeRuns);
        if (Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.Decrement(ref _activeRuns);
            throw new ObjectDisposedException(nameof(InferenceSession));
        }
    }

    private void ExitRun() => Interlocked.Decrement(ref _activeRuns);

    /// <summary>Waits for runs in flight to finish, then frees plans, packed weights and the graph.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var spin = new SpinWait();
        while (Volatile.Read(ref _activeRuns) > 0) spin.SpinOnce();
        _plans.Dispose();
        _provider?.Dispose();
        foreach (var op in _operators) op.Dispose();
        _pool.Dispose();
        if (LockedWeightBytes > 0) Memory.WeightLock.Unlock(_graph);
        _graph.Dispose();
    }

    /// <summary>A bounded, least-recently-used set of plans, searched without allocating.</summary>
    private sealed class PlanCache : IDisposable
    {
        private readonly List<ExecutionPlan> _plans = new();
        private readonly int _capacity;
        public PlanCache(int capacity) { _capacity = capacity; }

        public ExecutionPlan? Find(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<int> order, bool[] valueKeyed)
        {
            lock (_plans)
            {
                for (int p = 0; p < _plans.Count; p++)
                {
                    var plan = _plans[p];
                    if (!Matches(plan, inputs, order, valueKeyed)) continue;
                    if (p > 0) { _plans.RemoveAt(p); _plans.Insert(0, plan); }
                    plan.Users++;
                    return plan;
                }
                return null;
            }
        }

        private static bool Matches(ExecutionPlan plan, ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<int> order, bool[] valueKeyed)
        {
            for (int i = 0; i < order.Length; i++)
            {
                var t = inputs[order[i]].Tensor;
                if (!plan.InputShapes[i].Equals(t.Shape)) return false;
                if (valueKeyed[i] && !TensorBytes(t).SequenceEqual(plan.InputValueKeys[i])) return false;
            }
            return true;
        }

        public ExecutionPlan Add(ExecutionPlan plan)
        {
            lock (_plans)
            {
                plan.Users++;
                _plans.Insert(0, plan);
                while (_plans.Count > _capacity)
                {
                    var old = _plans[^1];
                    _plans.RemoveAt(_plans.Count - 1);
                    old.Retired = true;
                    if (old.Users == 0) old.Dispose();
                }
                return plan;
            }
        }

        public void Release(ExecutionPlan plan)
        {
            lock (_plans)
            {
                plan.Users--;
                if (plan.Retired && plan.Users == 0) plan.Dispose();
            }
        }

        public void Dispose()
        {
            lock (_plans)
            {
                foreach (var p in _plans) p.Dispose();
                _plans.Clear();
            }
        }
    }
}

/// <summary>What a plan for one set of input shapes looks like.</summary>
public sealed record PlanSummary(long ArenaBytes, int StepCount, int FoldedNodes, string[] StepOps, TensorShape[] OutputShapes);
