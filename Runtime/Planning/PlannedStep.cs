using FastInfer.Ir;
using FastInfer.Runtime.Operators;

namespace FastInfer.Runtime.Planning;

/// <summary>One step of a plan: a node's action and the value ids it reads and writes.</summary>
internal sealed class PlannedStep
{
    public required Node Node { get; init; }
    public required StepAction Action { get; init; }
    public required int[] Inputs { get; init; }
    public required int[] Outputs { get; init; }
    public long WorkspaceBytes { get; init; }
    /// <summary>Offset of the step's scratch memory in the arena.</summary>
    public long WorkspaceOffset { get; set; }
}
