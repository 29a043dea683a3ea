using System.Runtime.InteropServices;
using FastInfer.Ir;

namespace FastInfer.Runtime.Operators;

/// <summary>
/// What an operator sees while being planned for concrete shapes: its inputs' types, shapes and (when known
/// before Run) values; it declares its outputs and the scratch memory it needs.
/// </summary>
internal sealed unsafe class PlanContext
{
    private readonly Planning.PlanValue?[] _inputs;
    private readonly Planning.PlanValue[] _outputs;

    internal PlanContext(Node node, Planning.PlanValue?[] inputs, Planning.PlanValue[] outputs, long opset, ISet<string> graphOutputs)
    {
        Node = node; _inputs = inputs; _outputs = outputs; Opset = opset; GraphOutputs = graphOutputs;
    }

    public Node Node { get; }
    public long Opset { get; }
    private ISet<string> GraphOutputs { get; }

    /// <summary>Bytes of scratch memory the step needs from the arena during its own execution.</summary>
    public long WorkspaceBytes { get; set; }

    /// <summary>Set by operators whose result must not be computed at plan time (random, training mode).</summary>
    public bool NeverFold { get; set; }

    /// <summary>Set by operators whose result follows from input shapes alone (Shape, Size): computed when planning.</summary>
    public bool DependsOnlyOnShapes { get; set; }

    public int InputCount => _inputs.Length;
    public int OutputCount => _outputs.Length;
    public bool HasInput(int i) => i < _inputs.Length && _inputs[i] is not null;
    public bool HasOutput(int i) => i < _outputs.Length && _outputs[i].Name.Length > 0;

    internal Planning.PlanValue InputValue(int i) =>
        HasInput(i) ? _inputs[i]! : throw Fail($"input {i} is required but missing");

    public DataType InputType(int i) => InputValue(i).Type;
    public TensorShape InputShape(int i) => InputValue(i).Shape;
    public bool IsConstant(int i) => HasInput(i) && _inputs[i]!.Kind == Planning.ValueKind.Constant;

    public void SetOutput(int i, DataType type, TensorShape shape)
    {
        if (i >= _outputs.Length) return; // an optional output the node does not declare
        var v = _outputs[i];
        v.Type = type; v.Shape = shape; v.IsKnown = true;
    }

    /// <summary>
    /// Declares output <paramref name="o"/> as a view of input <paramref name="i"/> with a new shape (Reshape,
    /// Squeeze, Flatten, Identity): no bytes move. A graph output gets its own memory and a copy instead.
    /// </summary>
    public StepAction AliasOrCopy(int o, int i, TensorShape shape)
    {
        var input = InputValue(i);
        SetOutput(o, input.Type, shape);
        var output = _outputs[o];
        if (!GraphOutputs.Contains(output.Name))
        {
            output.Kind = Planning.ValueKind.Alias;
            output.AliasOf = input.Kind == Planning.ValueKind.Alias ? input.AliasOf : input.Id;
            return static (in StepArgs _) => { };
        }
        long bytes = input.ByteLength;
        return (in StepArgs a) => Buffer.MemoryCopy((void*)a.Input(i), (void*)a.Output(o), bytes, bytes);
    }

    /// <summary>The value of a constant input (an initializer, or folded when planning).</summary>
    public ReadOnlySpan<T> Constant<T>(int i) where T : unmanaged
    {
        var v = InputValue(i);
        if (v.Kind != Planning.ValueKind.Constant)
            throw Fail($"input {i} ('{v.Name}') must be known when planning (a constant or computed from shapes), but it depends on run-time data");
        return new ReadOnlySpan<T>((void*)v.ConstantPointer, checked((int)(v.ByteLength / sizeof(T))));
    }

    /// <summary>An int64 or int32 constant input as longs (shapes, axes, pads, ...).</summary>
    public long[] ConstantInts(int i)
    {
        var type = InputType(i);
        return type switch
        {
            DataType.Int64 => Constant<long>(i).ToArray(),
            DataType.Int32 => Array.ConvertAll(Constant<int>(i).ToArray(), x => (long)x),
            _ => throw Fail($"input {i} must be int64 or int32, not {type.ToName()}"),
        };
    }

    /// <summary>A scalar constant input converted to float (Clip bounds, Pad value, ...).</summary>
    public double ConstantScalar(int i)
    {
        var type = InputType(i);
        if (InputShape(i).ElementCount < 1) throw Fail($"input {i} is empty");
        return type switch
        {
            DataType.Float => Constant<float>(i)[0],
            DataType.Double => Constant<double>(i)[0],
            DataType.Int64 => Constant<long>(i)[0],
            DataType.Int32 => Constant<int>(i)[0],
            DataType.Bool or DataType.UInt8 => Constant<byte>(i)[0],
            DataType.Int8 => Constant<sbyte>(i)[0],
            _ => throw Fail($"input {i} has unsupported type {type.ToName()}"),
        };
    }

    public bool ConstantBool(int i) => MemoryMarshal.AsBytes(Constant<byte>(i))[0] != 0;

    /// <summary>Throws unless input i has one of the allowed types.</summary>
    public DataType RequireType(int i, params DataType[] allowed)
    {
        var t = InputType(i);
        if (Array.IndexOf(allowed, t) < 0)
            throw Fail($"input {i} ('{InputValue(i).Name}') has type {t.ToName()}; supported: {string.Join(", ", allowed.Select(a => a.ToName()))}");
        return t;
    }

    public InvalidModelException Fail(string message) =>
        new($"Node '{Node.DisplayName}' ({Node.OpType}): {message}.");
}
