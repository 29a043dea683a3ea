using FastInfer.Ir;
using FastInfer.Runtime.Planning;

namespace FastInfer.Runtime.Backends;

/// <summary>Where a planned value's memory comes from on the host.</summary>
public enum ValueRole
{
    /// <summary>A graph input: the caller's tensor.</summary>
    Input,
    /// <summary>A graph output written by a step into the caller's tensor.</summary>
    Output,
    /// <summary>Known at plan time (an initializer or a folded result), at <see cref="ValueDescription.ConstantPointer"/>.</summary>
    Constant,
    /// <summary>An intermediate with a slot in the host arena.</summary>
    Intermediate,
    /// <summary>A view of <see cref="ValueDescription.AliasOf"/> with another shape (Reshape, Flatten, ...).</summary>
    Alias,
}

/// <summary>One value of a plan as a provider sees it.</summary>
public sealed record ValueDescription(int Id, string Name, DataType Type, TensorShape Shape, ValueRole Role, nint ConstantPointer, int AliasOf)
{
    public long ByteLength => Shape.ElementCount * Math.Max(1, Type.SizeInBytes());
    /// <summary>The value whose memory this one occupies (itself unless it is an alias).</summary>
    public int Root => Role == ValueRole.Alias ? AliasOf : Id;
}

/// <summary>One step of a plan: a node and the value ids it reads (-1 for an absent optional input) and writes.</summary>
public sealed record StepDescription(int Index, Node Node, IReadOnlyList<int> Inputs, IReadOnlyList<int> Outputs);

/// <summary>
/// A CPU plan for one set of input shapes, described for an execution provider: every value's type, shape and
/// role, the steps in order (after constant folding), and the graph outputs.
/// </summary>
public sealed class PlanDescription
{
    internal PlanDescription(ExecutionPlan plan)
    {
        Values = plan.Values.Select(v => new ValueDescription(v.Id, v.Name, v.Type, v.Shape, v.Kind switch
        {
            ValueKind.Input => ValueRole.Input,
            ValueKind.Output => ValueRole.Output,
            ValueKind.Constant => ValueRole.Constant,
            ValueKind.Alias => ValueRole.Alias,
            _ => ValueRole.Intermediate,
        }, v.Kind == ValueKind.Constant ? v.ConstantPointer : 0, v.AliasOf)).ToArray();
        Steps = plan.Steps.Select((s, i) => new StepDescription(i, s.Node, s.Inputs, s.Outputs)).ToArray();
        InputIds = plan.InputIds;
        OutputIds = plan.OutputIds;
        OutputCopies = plan.OutputCopies;
        InputShapes = plan.InputShapes;
    }

    public IReadOnlyList<ValueDescription> Values { get; }
    public IReadOnlyList<StepDescription> Steps { get; }
    /// <summary>Value id of each graph input, in graph order.</summary>
    public IReadOnlyList<int> InputIds { get; }
    /// <summary>Value id of each graph output, in graph order.</summary>
    public IReadOnlyList<int> OutputIds { get; }
    /// <summary>Graph outputs no step writes (a constant, an input or a view): copied on the host from Source after Execute.</summary>
    public IReadOnlyList<(int Source, int OutputIndex)> OutputCopies { get; }
    public IReadOnlyList<TensorShape> InputShapes { get; }
}
